/*
 * xmp: read a handful of simple XMP properties with expat.
 *
 * expat resolves namespace prefixes (a packet may bind "exif" to anything;
 * only the namespace URI counts), keeps no global state and refuses
 * entity expansion attacks by itself; DTDs are refused here outright (XMP
 * packets never carry one). Values are taken from attributes of
 * rdf:Description and from its child elements (the text, or the first
 * rdf:li of an rdf:Seq/Bag/Alt). The first value of a property wins.
 */
#include "media/xmp.h"

#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/internal.h"

#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_EXIF "http://ns.adobe.com/exif/1.0/"
#define NS_TIFF "http://ns.adobe.com/tiff/1.0/"
#define NS_XMP "http://ns.adobe.com/xap/1.0/"
#define NS_PS "http://ns.adobe.com/photoshop/1.0/"

#define SEP ' ' /* URIs hold no space */
#define MAX_VALUE 1024
#define MAX_DEPTH 256

static const struct {
    const char *uri, *local, *name;
} props[EV_XMP_NPROPS] = {
    [EV_XMP_EXIF_DATETIMEORIGINAL] = { NS_EXIF, "DateTimeOriginal", "exif:DateTimeOriginal" },
    [EV_XMP_PHOTOSHOP_DATECREATED] = { NS_PS, "DateCreated", "photoshop:DateCreated" },
    [EV_XMP_EXIF_DATETIMEDIGITIZED] = { NS_EXIF, "DateTimeDigitized", "exif:DateTimeDigitized" },
    [EV_XMP_XMP_CREATEDATE] = { NS_XMP, "CreateDate", "xmp:CreateDate" },
    [EV_XMP_XMP_MODIFYDATE] = { NS_XMP, "ModifyDate", "xmp:ModifyDate" },
    [EV_XMP_TIFF_DATETIME] = { NS_TIFF, "DateTime", "tiff:DateTime" },
    [EV_XMP_TIFF_ORIENTATION] = { NS_TIFF, "Orientation", "tiff:Orientation" },
    [EV_XMP_TIFF_MAKE] = { NS_TIFF, "Make", "tiff:Make" },
    [EV_XMP_TIFF_MODEL] = { NS_TIFF, "Model", "tiff:Model" },
    [EV_XMP_EXIF_GPSLATITUDE] = { NS_EXIF, "GPSLatitude", "exif:GPSLatitude" },
    [EV_XMP_EXIF_GPSLONGITUDE] = { NS_EXIF, "GPSLongitude", "exif:GPSLongitude" },
};

const char *ev_xmp__name(ev_xmp_prop p)
{
    return (unsigned)p < EV_XMP_NPROPS ? props[p].name : "";
}

typedef struct pctx {
    XML_Parser p;
    ev_xmp *x;
    int depth;
    bool desc[MAX_DEPTH + 1]; /* element at depth d is rdf:Description */
    int prop;                 /* property being collected, -1 none */
    int prop_depth;
    int li_depth; /* depth of the rdf:li being read, 0 none */
    bool li_done;
    char buf[MAX_VALUE + 1];
    size_t len;
    bool nomem, refused;
} pctx;

/* "uri local" -> property index, or -1 */
static int prop_of(const XML_Char *name)
{
    const char *sp = strchr(name, SEP);
    if (!sp)
        return -1;
    size_t ul = (size_t)(sp - name);
    for (int i = 0; i < EV_XMP_NPROPS; i++)
        if (strlen(props[i].uri) == ul && memcmp(name, props[i].uri, ul) == 0 &&
            strcmp(sp + 1, props[i].local) == 0)
            return i;
    return -1;
}

static bool is_rdf(const XML_Char *name, const char *local)
{
    size_t ul = sizeof(NS_RDF) - 1;
    return strncmp(name, NS_RDF, ul) == 0 && name[ul] == SEP && strcmp(name + ul + 1, local) == 0;
}

static void set_value(pctx *c, int i, const char *v, size_t n)
{
    if (c->x->val[i])
        return;
    while (n > 0 && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n == 0)
        return;
    if (n > MAX_VALUE)
        n = MAX_VALUE;
    char *s = malloc(n + 1);
    if (!s) {
        c->nomem = true;
        XML_StopParser(c->p, XML_FALSE);
        return;
    }
    memcpy(s, v, n);
    s[n] = '\0';
    c->x->val[i] = s;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    pctx *c = ud;
    c->depth++;
    if (c->depth > MAX_DEPTH)
        return;
    c->desc[c->depth] = false;
    if (c->prop >= 0) {
        if (!c->li_depth && !c->li_done && is_rdf(name, "li"))
            c->li_depth = c->depth;
        return;
    }
    if (is_rdf(name, "Description")) {
        c->desc[c->depth] = true;
        for (size_t k = 0; atts[k] && atts[k + 1]; k += 2) {
            int i = prop_of(atts[k]);
            if (i >= 0)
                set_value(c, i, atts[k + 1], strlen(atts[k + 1]));
        }
        return;
    }
    if (c->depth > 1 && c->desc[c->depth - 1]) {
        int i = prop_of(name);
        if (i >= 0 && !c->x->val[i]) {
            c->prop = i;
            c->prop_depth = c->depth;
            c->li_depth = 0;
            c->li_done = false;
            c->len = 0;
        }
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    pctx *c = ud;
    if (c->prop >= 0) {
        if (c->li_depth && c->depth == c->li_depth) {
            c->li_depth = 0;
            c->li_done = true;
        } else if (c->depth == c->prop_depth) {
            set_value(c, c->prop, c->buf, c->len);
            c->prop = -1;
        }
    }
    c->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int n)
{
    pctx *c = ud;
    if (c->prop < 0 || n <= 0)
        return;
    bool here = c->li_depth ? c->depth == c->li_depth : (c->depth == c->prop_depth && !c->li_done);
    if (!here)
        return;
    size_t room = MAX_VALUE - c->len, k = (size_t)n < room ? (size_t)n : room;
    memcpy(c->buf + c->len, s, k);
    c->len += k;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    pctx *c = ud;
    c->refused = true;
    XML_StopParser(c->p, XML_FALSE);
}

void ev_xmp__free(ev_xmp *x)
{
    for (int i = 0; i < EV_XMP_NPROPS; i++) {
        free(x->val[i]);
        x->val[i] = NULL;
    }
}

int ev_xmp__parse(ev_xmp *x, const uint8_t *data, size_t len, char *why, size_t whylen)
{
    memset(x, 0, sizeof(*x));
    if (whylen)
        why[0] = '\0';
    /* NUL padding after the packet (JPEG APP1, TIFF tag 700) is not XML */
    while (len > 0 && data[len - 1] == '\0')
        len--;
    if (len > EV_XMP_MAX_PACKET) {
        snprintf(why, whylen, "XMP packet of %zu bytes is over the %u-byte limit", len,
                 EV_XMP_MAX_PACKET);
        return EV_OK;
    }
    if (len == 0) {
        snprintf(why, whylen, "XMP packet is empty");
        return EV_OK;
    }
    pctx *c = calloc(1, sizeof(*c));
    if (!c)
        return EV_ENOMEM;
    c->x = x;
    c->prop = -1;
    c->p = XML_ParserCreateNS(NULL, SEP);
    if (!c->p) {
        free(c);
        return EV_ENOMEM;
    }
    XML_SetUserData(c->p, c);
    XML_SetElementHandler(c->p, on_start, on_end);
    XML_SetCharacterDataHandler(c->p, on_text);
    XML_SetStartDoctypeDeclHandler(c->p, on_doctype);
    enum XML_Status st = XML_Parse(c->p, (const char *)data, (int)len, XML_TRUE);
    int rc = EV_OK;
    if (c->nomem) {
        rc = EV_ENOMEM;
    } else if (c->refused) {
        snprintf(why, whylen, "XMP packet with a DTD refused");
    } else if (st != XML_STATUS_OK) {
        snprintf(why, whylen, "XMP packet not well-formed at line %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(c->p),
                 XML_ErrorString(XML_GetErrorCode(c->p)));
    }
    XML_ParserFree(c->p);
    free(c);
    if (rc != EV_OK)
        ev_xmp__free(x);
    return rc;
}
