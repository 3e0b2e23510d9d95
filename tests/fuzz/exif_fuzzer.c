/*
 * Fuzz target: the EXIF and XMP readers. The input is used three times: as
 * an EXIF block (with or without "Exif\0\0") given to ev_exif__capture();
 * as a whole file (JPEG, PNG, TIFF, HEIF) whose EXIF block is located with
 * ev_exif__extract(); and as a whole still read by ev_exif__still() (the
 * in-place TIFF IFD walk at any size, and XMP where EXIF is silent), all
 * over an in-memory ev_io.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "media/exif.h"
#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *c = NULL;
    if (ev_exif__capture(&c, data, size) == 0)
        json_decref(c);

    uint64_t st[4];
    ev_io io;
    if (ev_media__io_from_mem(&io, data, size, st) != 0)
        return 0;
    ev_exif_container k = ev_exif__sniff(data, size);
    if (k == EV_EXIF_NONE)
        k = (ev_exif_container)(1 + (size ? data[size - 1] % 4 : 0)); /* try a walker anyway */
    uint8_t *blk = NULL;
    size_t len = 0;
    const char *where = NULL;
    char why[256];
    if (ev_exif__extract(&blk, &len, &where, &io, k, why, sizeof(why)) == 0) {
        c = NULL;
        if (ev_exif__capture(&c, blk, len) == 0)
            json_decref(c);
        free(blk);
    }
    if (ev_media__io_from_mem(&io, data, size, st) != 0)
        return 0;
    c = NULL;
    blk = NULL;
    len = 0;
    if (ev_exif__still(&c, &blk, &len, &io, k, why, sizeof(why)) == 0) {
        json_decref(c);
        free(blk);
    }
    return 0;
}
