/*
 * complete: does a container reach the end it claims? The Matroska segment
 * size, the MP4/MOV top-level boxes and the WAV RIFF size against the file
 * size, and the MP4/MOV sample table (edit lists ignored) against the file.
 */
#include "transcode/transcode_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/intreadwrite.h>

#include "media/boxes.h"

/* ------------------------------------------------------------------------ */
/* Container completeness                                                    */
/* ------------------------------------------------------------------------ */

/* EBML variable-length integer; returns its length (1..8) or 0. */
static int ebml_vint(const uint8_t *p, size_t n, uint64_t *v, bool keep_marker, bool *unknown)
{
    if (n == 0 || p[0] == 0)
        return 0;
    int len = 1;
    while (len <= 8 && !(p[0] & (0x80 >> (len - 1))))
        len++;
    if (len > 8 || (size_t)len > n)
        return 0;
    uint64_t x = keep_marker ? p[0] : (uint64_t)(p[0] & (0xFF >> len));
    bool ones = (p[0] & (0xFF >> len)) == (0xFF >> len);
    for (int i = 1; i < len; i++) {
        x = (x << 8) | p[i];
        ones = ones && p[i] == 0xFF;
    }
    *v = x;
    if (unknown)
        *unknown = ones;
    return len;
}

int ev_transcode__mov_sample_table(int64_t *counts, unsigned n, const char *path,
                                   ev_errbuf *err)
{
    AVFormatContext *fc = NULL;
    AVDictionary *o = NULL;
    const AVInputFormat *mov = av_find_input_format("mov");
    int rc = EV_OK;
    for (unsigned i = 0; i < n; i++)
        counts[i] = 0;
    if (!mov)
        return ev_err__set(err, EV_ERROR, "no MOV demuxer");
    if (!(fc = avformat_alloc_context()))
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    fc->probesize = EV_TC_PROBE_SIZE;
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    av_dict_set(&o, "ignore_editlist", "1", 0);
    int e = avformat_open_input(&fc, path, mov, &o); /* frees fc on failure */
    av_dict_free(&o);
    if (e < 0) {
        ev_transcode__averr(err, e, "cannot read the sample table of '%s'", path);
        return EV_ERROR;
    }
    int64_t size = avio_size(fc->pb);
    for (unsigned i = 0; i < fc->nb_streams && i < n && rc == EV_OK; i++) {
        const AVStream *st = fc->streams[i];
        int cnt = avformat_index_get_entries_count(st);
        counts[i] = cnt;
        for (int k = 0; k < cnt && size > 0; k++) {
            const AVIndexEntry *ie = avformat_index_get_entry((AVStream *)st, k);
            if (ie && ie->pos >= 0 && ie->pos + ie->size > size) {
                rc = ev_err__set(err, EV_EFORMAT, "the file is truncated: stream #%u (%s), "
                                 "sample %d of %d lies at bytes %lld-%lld, but the file ends "
                                 "at byte %lld", i, avcodec_get_name(st->codecpar->codec_id),
                                 k, cnt, (long long)ie->pos, (long long)(ie->pos + ie->size),
                                 (long long)size);
                break;
            }
        }
    }
    avformat_close_input(&fc);
    return rc;
}

int ev_transcode__container_complete(const char *path, const char *demuxer, ev_errbuf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    int rc = EV_OK;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return EV_OK;
    }
    uint64_t size = (uint64_t)ftello(f);
    uint8_t h[64];
    if (fseeko(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return EV_OK;
    }
    size_t got = fread(h, 1, sizeof(h), f);
    if (strncmp(demuxer, "matroska", 8) == 0 && got >= 8) {
        uint64_t id, sz, hdr_len;
        bool unk = false;
        int a = ebml_vint(h, got, &id, true, NULL);
        int b = a ? ebml_vint(h + a, got - (size_t)a, &sz, false, &unk) : 0;
        if (a && b && id == 0x1A45DFA3 && !unk && sz < 4096) {
            hdr_len = (uint64_t)a + (uint64_t)b + sz;
            uint8_t s[16];
            if (fseeko(f, (off_t)hdr_len, SEEK_SET) == 0 && fread(s, 1, 12, f) == 12) {
                int c = ebml_vint(s, 12, &id, true, NULL);
                int d = c ? ebml_vint(s + c, 12 - (size_t)c, &sz, false, &unk) : 0;
                if (c && d && id == 0x18538067 && !unk) {
                    uint64_t end = hdr_len + (uint64_t)c + (uint64_t)d + sz;
                    if (end > size)
                        rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: its Matroska "
                                         "segment ends at byte %llu, the file at byte %llu",
                                         path, (unsigned long long)end,
                                         (unsigned long long)size);
                }
            }
        }
    } else if (strncmp(demuxer, "mov,", 4) == 0) {
        uint64_t pos = 0;
        ev_media__box_iter it;
        ev_media__box b;
        ev_media__box_iter_io(&it, ev_media__box_read_stdio, f, 0, size);
        for (int guard = 0; pos < size && guard < 100000; guard++) {
            ev_media__box_status st = ev_media__box_next(&b, &it);
            if (b.hlen == 0) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated inside a box header at "
                                 "byte %llu", path, (unsigned long long)pos);
                break;
            }
            bool printable = true;
            for (int k = 0; k < 4; k++)
                printable = printable && b.fourcc[k] >= 0x20 && b.fourcc[k] < 0x7F;
            if (!printable && pos > 0)
                break; /* trailing bytes after the last box: not our concern here */
            if (st == EV_MEDIA__BOX_CUT) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated at byte %llu", path,
                                 (unsigned long long)pos);
                break;
            }
            if (st == EV_MEDIA__BOX_SMALL) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' has a broken box structure at byte %llu",
                                 path, (unsigned long long)pos);
                break;
            }
            if (st == EV_MEDIA__BOX_BEYOND) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: box '%.4s' at byte %llu "
                                 "claims %llu bytes, the file ends %llu bytes later", path,
                                 (const char *)b.fourcc, (unsigned long long)pos,
                                 (unsigned long long)b.size, (unsigned long long)(size - pos));
                break;
            }
            pos = b.end;
        }
    } else if (strcmp(demuxer, "wav") == 0 && got >= 12 && memcmp(h, "RIFF", 4) == 0) {
        uint64_t riff = AV_RL32(h + 4);
        if (riff != 0 && riff != 0xFFFFFFFFu && riff + 8 > size + 1)
            rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: its RIFF header claims %llu "
                             "bytes, the file has %llu", path, (unsigned long long)(riff + 8),
                             (unsigned long long)size);
    }
    fclose(f);
    return rc;
}
