/*
 * xmp: the few XMP properties that capture facts are read from (dates,
 * orientation, make, model), parsed with expat (namespace-aware, no DTD).
 * Private to the media module.
 */
#ifndef EV_XMP_H
#define EV_XMP_H

#include <stddef.h>
#include <stdint.h>

/* Largest XMP packet parsed. */
#define EV_XMP_MAX_PACKET (8u * 1024 * 1024)

/* The properties read, by their usual prefix (the packet may bind others). */
typedef enum ev_xmp_prop {
    EV_XMP_EXIF_DATETIMEORIGINAL = 0, /* exif:DateTimeOriginal */
    EV_XMP_PHOTOSHOP_DATECREATED,     /* photoshop:DateCreated */
    EV_XMP_EXIF_DATETIMEDIGITIZED,    /* exif:DateTimeDigitized */
    EV_XMP_XMP_CREATEDATE,            /* xmp:CreateDate */
    EV_XMP_XMP_MODIFYDATE,            /* xmp:ModifyDate */
    EV_XMP_TIFF_DATETIME,             /* tiff:DateTime */
    EV_XMP_TIFF_ORIENTATION,          /* tiff:Orientation */
    EV_XMP_TIFF_MAKE,                 /* tiff:Make */
    EV_XMP_TIFF_MODEL,                /* tiff:Model */
    EV_XMP_EXIF_GPSLATITUDE,          /* exif:GPSLatitude "DDD,MM,SSk" / "DDD,MM.mmk" */
    EV_XMP_EXIF_GPSLONGITUDE,         /* exif:GPSLongitude */
    EV_XMP_NPROPS
} ev_xmp_prop;

typedef struct ev_xmp {
    char *val[EV_XMP_NPROPS]; /* first value found, trimmed; NULL when absent */
} ev_xmp;

/*
 * Parse an XMP packet. Simple properties are read as attributes of
 * rdf:Description or as its child elements (first rdf:li of an array).
 * Returns EV_OK (possibly with a complaint in why: not well-formed, DTD
 * refused; values read before the problem are kept) or EV_ENOMEM.
 * Free with ev_xmp__free() in all cases.
 */
int ev_xmp__parse(ev_xmp *x, const uint8_t *data, size_t len, char *why, size_t whylen);

void ev_xmp__free(ev_xmp *x);

/* "exif:DateTimeOriginal" etc. */
const char *ev_xmp__name(ev_xmp_prop p);

#endif
