/*
 * exif_blocks: the EXIF block of a still picture as stored (JPEG APP1, PNG
 * eXIf, TIFF), and insertion of an eXIf chunk into a PNG.
 */
#include "transcode/transcode_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/crc.h>
#include <libavutil/intreadwrite.h>

static bool tiff_header(const uint8_t *p, size_t n)
{
    return n >= 8 && ((memcmp(p, "II*\0", 4) == 0) || (memcmp(p, "MM\0*", 4) == 0));
}

static int read_exact(FILE *f, void *buf, size_t n)
{
    return fread(buf, 1, n, f) == n ? 0 : -1;
}

static int take_block(uint8_t **out, size_t *len, FILE *f, size_t n, size_t skip,
                      const char *path, ev_errbuf *err)
{
    if (n > EV_TC_MAX_EXIF)
        return ev_err__set(err, EV_EFORMAT, "'%s': EXIF block of %zu bytes is larger than the "
                           "%u-byte limit", path, n, EV_TC_MAX_EXIF);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    if (read_exact(f, b, n) != 0) {
        free(b);
        return ev_err__set(err, EV_EFORMAT, "'%s': truncated EXIF block", path);
    }
    if (skip > n || !tiff_header(b + skip, n - skip)) {
        free(b);
        return EV_OK; /* not TIFF-structured EXIF: treat as absent */
    }
    memmove(b, b + skip, n - skip);
    *out = b;
    *len = n - skip;
    return EV_OK;
}

int ev_transcode__file_exif(uint8_t **out, size_t *len, const char *path, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    uint8_t h[12];
    int rc = EV_OK;
    if (read_exact(f, h, 2) != 0)
        goto done;
    if (h[0] == 0xFF && h[1] == 0xD8) { /* JPEG: APP1 "Exif\0\0" */
        for (int guard = 0; guard < 1024; guard++) {
            uint8_t m[4];
            if (read_exact(f, m, 2) != 0 || m[0] != 0xFF)
                break;
            while (m[1] == 0xFF) /* fill bytes */
                if (read_exact(f, m + 1, 1) != 0)
                    goto done;
            if (m[1] == 0xD9 || m[1] == 0xDA) /* EOI, SOS: no more headers */
                break;
            if ((m[1] >= 0xD0 && m[1] <= 0xD7) || m[1] == 0x01)
                continue;
            if (read_exact(f, m + 2, 2) != 0)
                break;
            size_t seg = AV_RB16(m + 2);
            if (seg < 2)
                break;
            seg -= 2;
            if (m[1] == 0xE1 && seg >= 14) {
                uint8_t id[6];
                if (read_exact(f, id, 6) != 0)
                    break;
                if (memcmp(id, "Exif\0\0", 6) == 0) {
                    rc = take_block(out, len, f, seg - 6, 0, path, err);
                    goto done;
                }
                seg -= 6;
            }
            if (fseeko(f, (off_t)seg, SEEK_CUR) != 0)
                break;
        }
    } else if (h[0] == 0x89 && h[1] == 'P') { /* PNG: eXIf chunk */
        uint8_t sig[6];
        if (read_exact(f, sig, 6) != 0 || memcmp(sig, "NG\r\n\x1a\n", 6) != 0)
            goto done;
        for (int guard = 0; guard < 100000; guard++) {
            uint8_t ch[8];
            if (read_exact(f, ch, 8) != 0)
                break;
            uint32_t clen = AV_RB32(ch);
            if (clen > 0x7FFFFFFFu)
                break;
            if (memcmp(ch + 4, "eXIf", 4) == 0) {
                rc = take_block(out, len, f, clen, 0, path, err);
                goto done;
            }
            if (memcmp(ch + 4, "IEND", 4) == 0)
                break;
            if (fseeko(f, (off_t)clen + 4, SEEK_CUR) != 0)
                break;
        }
    } else if (h[0] == 'R' && h[1] == 'I') { /* WebP: RIFF chunk "EXIF" */
        if (read_exact(f, h + 2, 10) != 0 || memcmp(h, "RIFF", 4) != 0 ||
            memcmp(h + 8, "WEBP", 4) != 0)
            goto done;
        for (int guard = 0; guard < 100000; guard++) {
            uint8_t ch[8];
            if (read_exact(f, ch, 8) != 0)
                break;
            uint32_t clen = AV_RL32(ch + 4);
            if (memcmp(ch, "EXIF", 4) == 0) {
                /* some writers keep the "Exif\0\0" prefix */
                rc = take_block(out, len, f, clen, 0, path, err);
                if (rc == EV_OK && !*out) {
                    fseeko(f, -(off_t)clen, SEEK_CUR);
                    rc = take_block(out, len, f, clen, 6, path, err);
                }
                goto done;
            }
            if (fseeko(f, (off_t)clen + (clen & 1), SEEK_CUR) != 0)
                break;
        }
    }
done:
    fclose(f);
    return rc;
}

static uint32_t png_crc(const uint8_t *p, size_t n)
{
    return av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), 0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
}

int ev_transcode__png_add_exif(uint8_t **png, size_t *png_len, const uint8_t *exif,
                               size_t exif_len)
{
    const size_t at = 8 + 8 + 13 + 4; /* signature + IHDR chunk */
    if (*png_len < at || memcmp(*png, "\x89PNG\r\n\x1a\n", 8) != 0 ||
        memcmp(*png + 12, "IHDR", 4) != 0 || AV_RB32(*png + 8) != 13)
        return EV_EFORMAT;
    if (exif_len > EV_TC_MAX_EXIF)
        return EV_EFORMAT;
    size_t add = 12 + exif_len, total;
    if (__builtin_add_overflow(*png_len, add, &total))
        return EV_ENOMEM;
    uint8_t *n = malloc(total);
    if (!n)
        return EV_ENOMEM;
    memcpy(n, *png, at);
    uint8_t *c = n + at;
    AV_WB32(c, (uint32_t)exif_len);
    memcpy(c + 4, "eXIf", 4);
    if (exif_len)
        memcpy(c + 8, exif, exif_len);
    AV_WB32(c + 8 + exif_len, png_crc(c + 4, 4 + exif_len));
    memcpy(n + at + add, *png + at, *png_len - at);
    free(*png);
    *png = n;
    *png_len = total;
    return EV_OK;
}
