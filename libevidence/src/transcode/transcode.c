/*
 * transcode: run a profile on one file (libavformat/libavcodec/libavfilter/
 * libswscale), write the copy atomically, verify it against the source and
 * build the derivation record (record.c). The public façade is in api.c.
 *
 * Order of work for audio/video:
 *   plan (which stream is copied, encoded, dropped; refusals) ->
 *   open encoders and muxer -> one pass: packets copied or decoded, converted
 *   and encoded -> trailer, fsync -> output SHA-256 -> verification ->
 *   metadata read-back -> rename into place (only on success).
 * The source's SHA-256 is computed by a second thread during the pass.
 */
#include "transcode/transcode.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "base/hash.h"
#include "base/publish.h"
#include "transcode/job.h"
#include "transcode/record.h"

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static int sync_file(const char *path, ev_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ev_err__set(err, EV_EIO, "cannot flush '%s' to disk: %s", path, strerror(e));
    }
    close(fd);
    return EV_OK;
}

typedef struct sync_job {
    const char *path;
    int rc;
    ev_errbuf err;
} sync_job;

static void *sync_thread(void *arg)
{
    sync_job *s = arg;
    s->rc = sync_file(s->path, &s->err);
    return NULL;
}

typedef struct src_hash {
    const char *path;
    char hex[65];
    uint64_t size;
    int rc;
    ev_errbuf err;
} src_hash;

static void *hash_thread(void *arg)
{
    src_hash *h = arg;
    h->rc = ev_transcode__file_sha256(h->hex, &h->size, h->path, &h->err);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Kinds                                                                     */
/* ------------------------------------------------------------------------ */

/* The demuxer a file's first bytes point to, for the container check of a
 * file FFmpeg could not open: "mov," (ISO BMFF box types), "matroska"
 * (EBML), "wav" (RIFF WAVE), else NULL. */
static const char *sniff_demuxer(const char *path)
{
    uint8_t h[12];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t got = fread(h, 1, sizeof(h), f);
    fclose(f);
    if (got < 12)
        return NULL;
    if (memcmp(h + 4, "ftyp", 4) == 0 || memcmp(h + 4, "moov", 4) == 0 ||
        memcmp(h + 4, "mdat", 4) == 0 || memcmp(h + 4, "free", 4) == 0 ||
        memcmp(h + 4, "wide", 4) == 0)
        return "mov,";
    if (h[0] == 0x1A && h[1] == 0x45 && h[2] == 0xDF && h[3] == 0xA3)
        return "matroska";
    if (memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0)
        return "wav";
    return NULL;
}

/* The container check's message ("'X' is truncated: ...") as a refusal. */
static int refuse_container(job *j, int rc)
{
    if (rc != EV_EFORMAT)
        return rc;
    char what[EV_ERRMSG_SIZE];
    const char *m = j->err->msg;
    size_t il = strlen(j->in);
    /* "'<path>' is truncated: ..." -> "the file is truncated: ..." */
    if (m[0] == '\'' && strncmp(m + 1, j->in, il) == 0 && m[il + 1] == '\'' && m[il + 2] == ' ')
        snprintf(what, sizeof(what), "the file %s", m + il + 3);
    else
        snprintf(what, sizeof(what), "%s", m);
    return ev_transcode__refuse_damaged(j, what);
}

static int do_av(job *j, json_t **streams_json, ev_vplan *vp)
{
    int rc;
    AVDictionary *mo = NULL;
    if ((rc = ev_transcode__srcread_open(&j->src, j->in, true, j->err)) != EV_OK)
        return rc;
    char rate[48] = "";
    if (j->o.assume_fps_num && j->o.assume_fps_den)
        snprintf(rate, sizeof(rate), "%u/%u", j->o.assume_fps_num, j->o.assume_fps_den);
    if ((rc = ev_transcode__open_input_rate(&j->ic, j->in, ev_transcode__srcread_pb(j->src),
                                            rate[0] ? rate : NULL, j->err)) != EV_OK) {
        /* a file cut short before its index (MP4 with the moov box at the
         * end): say so, rather than only that it cannot be read */
        if (rc == EV_EFORMAT) {
            ev_errbuf e2;
            const char *dm = sniff_demuxer(j->in);
            if (dm && ev_transcode__container_complete(j->in, dm, &e2) != EV_OK) {
                ev_err__copy(j->err, &e2, EV_EFORMAT);
                return refuse_container(j, EV_EFORMAT);
            }
            size_t l = strlen(j->err->msg);
            snprintf(j->err->msg + l, sizeof(j->err->msg) - l, "; no copy was made. Keep the "
                     "file as it is with the master profile");
        }
        return rc;
    }
    if ((rc = ev_transcode__container_complete(j->in, j->ic->iformat->name, j->err)) != EV_OK)
        return refuse_container(j, rc);
    if ((rc = ev_transcode__check_index(j)) != EV_OK)
        return rc;
    j->has_src_loc = ev_transcode__stored_location(&j->src_loc, j->ic, j->in);
    if ((rc = ev_transcode__plan(j)) != EV_OK)
        return rc;
    int e = avformat_alloc_output_context2(&j->oc, NULL, j->p->container, j->tmp);
    if (e < 0 || !j->oc)
        return ev_transcode__averr(j->err, e < 0 ? e : AVERROR(ENOMEM), "cannot create a %s "
                                   "muxer", j->p->container);
    for (size_t i = 0; i < j->p->n_muxer_options; i++)
        av_dict_set(&mo, j->p->muxer_options[i].key, j->p->muxer_options[i].value, 0);
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->action == EV_ACTION_COPY)
            rc = ev_transcode__setup_copy(j, o);
        else if (o->type == EV_ST_VIDEO)
            rc = ev_transcode__setup_video(j, o);
        else if (o->type == EV_ST_AUDIO)
            rc = ev_transcode__setup_audio(j, o);
        else
            rc = ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d cannot be encoded", o->in_idx);
        if (rc != EV_OK)
            goto done;
    }
    if ((rc = ev_transcode__setup_container_meta(j, &mo)) != EV_OK)
        goto done;
    const AVDictionaryEntry *t = NULL;
    while ((t = av_dict_get(mo, "", t, AV_DICT_IGNORE_SUFFIX)))
        json_object_set_new(j->muxer_options, t->key, json_string(t->value));
    AVDictionary *po = NULL;
    av_dict_set(&po, "truncate", "0", 0);
    av_dict_set(&po, "protocol_whitelist", "file", 0);
    e = avio_open2(&j->oc->pb, j->tmp, AVIO_FLAG_WRITE, NULL, &po);
    av_dict_free(&po);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot write '%s'", j->tmp);
        rc = rc == EV_ENOTFOUND || rc == EV_EFORMAT || rc == EV_ERROR ? EV_EIO : rc;
        goto done;
    }
    e = avformat_write_header(j->oc, &mo);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "the %s muxer refuses the streams", j->p->container);
        rc = rc == EV_ERROR || rc == EV_EFORMAT ? EV_EUNSUPPORTED : rc;
        goto done;
    }
    if (av_dict_count(mo)) {
        t = av_dict_get(mo, "", NULL, AV_DICT_IGNORE_SUFFIX);
        ev_transcode__note(j, "muxer option '%s' was not used by the %s muxer", t ? t->key : "?",
             j->p->container);
    }
    if ((rc = ev_transcode__run_pass(j)) != EV_OK)
        goto done;
    e = av_write_trailer(j->oc);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot finish '%s'", j->tmp);
        rc = rc == EV_ERROR || rc == EV_EFORMAT ? EV_EIO : rc;
        goto done;
    }
    e = avio_closep(&j->oc->pb);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot write '%s'", j->tmp);
        goto done;
    }
    if ((rc = ev_transcode__progress(j, true)) != EV_OK)
        goto done;
    /* settings and verification plan */
    json_t *arr = json_array();
    vp->s = ev__calloc(j->n_os, sizeof(ev_vstream));
    if (!arr || !vp->s) {
        json_decref(arr);
        rc = ev_err__set(j->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->ts_fixed) {
            json_object_set_new(o->settings, "timestamps_adjusted", json_integer(o->ts_fixed));
            ev_transcode__note(j, "stream #%d: %lld copied packets had a decoding timestamp that did not "
                 "increase; it was raised to the smallest value the muxer accepts (payloads "
                 "unchanged)", o->in_idx, (long long)o->ts_fixed);
        }
        json_object_set_new(o->settings, "packets_in", json_integer(o->packets_in));
        json_object_set_new(o->settings, "packets_out", json_integer(o->packets_out));
        if (o->action == EV_ACTION_ENCODE) {
            json_object_set_new(o->settings, "frames_in", json_integer(o->frames_in));
            json_object_set_new(o->settings, "frames_out", json_integer(o->frames_out));
        }
        json_array_append(arr, o->settings);
        ev_vstream *vs = &vp->s[vp->n++];
        vs->src = o->in_idx;
        vs->out = o->out_idx;
        vs->type = o->type;
        vs->cmp_pix_fmt = AV_PIX_FMT_NONE;
        vs->out_cmp_pix_fmt = AV_PIX_FMT_NONE;
        vs->orientation = 1;
        if (o->action == EV_ACTION_COPY) {
            vs->level = EV_LEVEL_PACKET;
            vs->packet_fallback = j->p->packet_fallback == EV_LEVEL_DECODED;
            /* Annex B H.264/HEVC (raw, DAV, MPEG-PS/TS): the muxer turns start
             * codes into length prefixes; the NAL units are compared */
            enum AVCodecID cid = o->ist->codecpar->codec_id;
            vs->nal_units = (cid == AV_CODEC_ID_H264 || cid == AV_CODEC_ID_HEVC) && o->nal_len == 0;
        } else if (j->p->level == EV_LEVEL_DECODED) {
            vs->level = EV_LEVEL_DECODED;
            /* A lossless repack is compared back in the source's format; a
             * conversion the profile declares as its fallback is compared
             * through the same conversion of the source (and recorded so);
             * anything else is compared natively, and so fails. */
            if (o->type == EV_ST_VIDEO && o->fmt.convert) {
                if (o->fmt.repack)
                    vs->out_cmp_pix_fmt = o->src_fmt;
                else if (o->rule->fallback_pix_fmt && !o->rule->pix_fmt)
                    vs->cmp_pix_fmt = o->fmt.fmt;
            }
        } else {
            vs->level = EV_LEVEL_QUALITY;
        }
        json_object_set_new(o->settings, "verification",
                            json_string(ev_profile__level_name(vs->level)));
    }
    *streams_json = arr;
    rc = EV_OK;
done:
    av_dict_free(&mo);
    return rc;
}

static int do_copy(job *j, int fd, char src_hex[65], uint64_t *size)
{
    FILE *f = fopen(j->in, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(j->err, ev_err__from_errno(e), "cannot open '%s': %s", j->in,
                           strerror(e));
    }
    ev_hasher *h = NULL;
    int rc = ev_hash__new(&h, EV_ALG_SHA256);
    size_t cap = 1 << 20;
    uint8_t *buf = rc == EV_OK ? malloc(cap) : NULL;
    uint64_t total = 0;
    if (!buf) {
        rc = ev_err__set(j->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        size_t got = fread(buf, 1, cap, f);
        if (got) {
            ev_hash__update(h, buf, got);
            const uint8_t *p = buf;
            size_t n = got;
            while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rc = ev_err__set(j->err, EV_EIO, "cannot write '%s': %s", j->tmp,
                                     strerror(errno));
                    goto done;
                }
                p += w;
                n -= (size_t)w;
            }
            total += got;
        }
        if (got < cap) {
            if (ferror(f)) {
                rc = ev_err__set(j->err, EV_EIO, "read error in '%s'", j->in);
                goto done;
            }
            break;
        }
        if (j->o.progress_cb) {
            ev_progress pr = { EV_PROGRESS_VERSION, "copying", j->in, total, 0, 0, 1 };
            if (j->o.progress_cb(&pr, j->o.progress_payload)) {
                rc = ev_err__set(j->err, EV_ECANCELED, "canceled by callback");
                goto done;
            }
        }
    }
    ev_digests d;
    if (ev_hash__final(h, &d) != EV_OK) {
        rc = ev_err__set(j->err, EV_ERROR, "SHA-256 failed");
        goto done;
    }
    memcpy(src_hex, d.hex[EV_HASH_SHA256], 65);
    *size = total;
done:
    free(buf);
    ev_hash__free(h);
    fclose(f);
    return rc;
}

/* With EV_TRANSCODE__WRITE_RECORD: the record's name, and whether an
 * existing one may be replaced (with --overwrite, or when it was left
 * without its copy by a run killed between the two renames). */
static int record_path_check(char **path_out, bool *replace, const char *out_path,
                             uint32_t flags, json_t *notes, ev_errbuf *err)
{
    size_t n = strlen(out_path) + sizeof(".derivation.json");
    char *rp = malloc(n);
    if (!rp)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    snprintf(rp, n, "%s.derivation.json", out_path);
    *path_out = rp;
    *replace = (flags & EV_TRANSCODE__OVERWRITE) != 0;
    struct stat st;
    if (*replace || lstat(rp, &st) != 0)
        return EV_OK;
    if (!S_ISREG(st.st_mode))
        return ev_err__set(err, EV_EEXISTS, "'%s' exists and is not a file; remove it or "
                           "choose another output name", rp);
    if (lstat(out_path, &st) == 0)
        return ev_err__set(err, EV_EEXISTS, "'%s' already exists; remove it or choose "
                           "another name", rp);
    *replace = true;
    char msg[600];
    snprintf(msg, sizeof(msg), "replaced '%s', a record left without its copy by an "
             "interrupted run", rp);
    json_array_append_new(notes, json_string(msg));
    return EV_OK;
}

/* The record as the result JSON gives it, plus a newline, published the
 * one way outputs are (base/publish.h). */
static int record_write(const char *path, json_t *doc, unsigned flags, ev_errbuf *err)
{
    char *text = json_dumps(doc, EV_TRANSCODE__JSON_FLAGS);
    if (!text)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    size_t n = strlen(text);
    char *buf = realloc(text, n + 2);
    if (!buf) {
        free(text);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    buf[n] = '\n';
    buf[n + 1] = '\0';
    int rc = ev__write_file_atomic(path, buf, n + 1, flags, err);
    free(buf);
    return rc;
}

int ev_transcode__run(json_t **out_derivation, const ev_profile *p, const char *in_path,
                      const char *out_path, const ev_transcode__opts *opts, ev_errbuf *err)
{
    job j;
    memset(&j, 0, sizeof(j));
    src_hash sh;
    memset(&sh, 0, sizeof(sh));
    ev_vplan vp;
    memset(&vp, 0, sizeof(vp));
    ev_still_out still;
    memset(&still, 0, sizeof(still));
    json_t *streams = NULL, *verification = NULL, *metadata = NULL, *exif = NULL;
    pthread_t th, sync_th, oh_th;
    bool th_started = false, sync_started = false, oh_started = false, kept = false;
    src_hash oh;
    memset(&oh, 0, sizeof(oh));
    sync_job sy;
    memset(&sy, 0, sizeof(sy));
    int fd = -1, lockfd = -1, rc;
    char *rec_path = NULL;
    bool rec_replace = false;
    char created[40];
    ev__time_rfc3339(created, sizeof(created), (int64_t)time(NULL));

    if (out_derivation)
        *out_derivation = NULL;
    if (!out_derivation || !p || !in_path || !out_path)
        return ev_err__set(err, EV_EINVAL, "transcode: NULL argument");
    j.p = p;
    j.in = in_path;
    j.out = out_path;
    j.err = err;
    if (opts)
        j.o = *opts;
    for (int i = 0; i < EV_TC_MAX_STREAMS; i++)
        j.map[i] = -1;
    j.dropped = json_array();
    j.notes = json_array();
    j.muxer_options = json_object();
    j.pkt = av_packet_alloc();
    j.epkt = av_packet_alloc();
    j.frame = av_frame_alloc();
    j.ffr = av_frame_alloc();
    if (!j.dropped || !j.notes || !j.muxer_options || !j.pkt || !j.epkt || !j.frame || !j.ffr) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if (p->unavailable) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' cannot run in this build: %s",
                         p->name, p->unavailable);
        goto done;
    }
    struct stat si, so;
    if (stat(in_path, &si) != 0) {
        int e = errno;
        rc = ev_err__set(err, ev_err__from_errno(e), "cannot read '%s': %s", in_path,
                         strerror(e));
        goto done;
    }
    if (!S_ISREG(si.st_mode)) {
        rc = ev_err__set(err, EV_EINVAL, "'%s' is not a regular file", in_path);
        goto done;
    }
    if (stat(out_path, &so) == 0) {
        if (so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
            rc = ev_err__set(err, EV_EINVAL, "'%s' is the input itself; give another output "
                             "name", out_path);
            goto done;
        }
        if (!(j.o.flags & EV_TRANSCODE__OVERWRITE)) {
            rc = ev_err__set(err, EV_EEXISTS, "'%s' already exists; remove it or choose another "
                             "name", out_path);
            goto done;
        }
    }
    if (j.o.flags & EV_TRANSCODE__WRITE_RECORD) {
        if ((rc = record_path_check(&rec_path, &rec_replace, out_path, j.o.flags, j.notes,
                                    err)) != EV_OK)
            goto done;
    }
    /* the one temporary pattern (base/publish.h): ".OUT.partial-XXXXXX",
     * locked until the copy is published or removed, so that the next
     * writer of OUT removes it if this one is killed; lockfd shares the
     * lock and stays open after fd is handed over and closed */
    if ((rc = ev__tmp_create(&j.tmp, &fd, out_path, false, err)) != EV_OK)
        goto done;
    if ((lockfd = dup(fd)) < 0 || fchmod(fd, 0644) != 0) {
        rc = ev_err__set(err, EV_EIO, "cannot prepare '%s': %s", j.tmp, strerror(errno));
        goto done;
    }
    if (p->kind == EV_KIND_STILL) {
        sh.path = in_path;
        th_started = pthread_create(&th, NULL, hash_thread, &sh) == 0;
        if (!th_started)
            hash_thread(&sh);
    }

    if (p->kind == EV_KIND_COPY) {
        rc = do_copy(&j, fd, sh.hex, &sh.size);
        close(fd);
        fd = -1;
    } else if (p->kind == EV_KIND_STILL) {
        rc = ev_transcode__still(&still, p, in_path, fd, j.o.flags, err);
        close(fd);
        fd = -1;
        if (rc == EV_OK) {
            streams = json_array();
            json_array_append(streams, still.settings);
            vp.s = ev__calloc(1, sizeof(ev_vstream));
            if (!vp.s || !streams) {
                rc = ev_err__set(err, EV_ENOMEM, "out of memory");
            } else {
                vp.s[0] = still.vs;
                vp.n = 1;
                vp.still = true;
                json_object_set_new(still.settings, "verification",
                                    json_string("decoded-identical"));
            }
        }
    } else {
        close(fd);
        fd = -1;
        rc = do_av(&j, &streams, &vp);
        /* the source's SHA-256, from the bytes the demuxer read (and the
         * structure walk over them) */
        if (rc == EV_OK) {
            sh.rc = ev_transcode__srcread_finish(j.src, sh.hex, &sh.size, &sh.err);
            if (sh.rc == EV_EFORMAT)
                rc = ev_transcode__refuse_damaged(&j, sh.err.msg);
        }
    }
    if (rc != EV_OK)
        goto done;
    vp.psnr_min = p->psnr_min;
    vp.psnr_mean_min = p->psnr_mean_min;
    vp.ssim_min = p->ssim_min;
    vp.ssim_mean_min = p->ssim_mean_min;
    vp.max_ts_delta_frames = p->max_ts_delta_frames;
    /* Flush the copy to disk in the background while it is hashed and
     * verified (from the page cache); joined before it is renamed. */
    sy.path = j.tmp;
    if (!(j.o.flags & EV_TRANSCODE__NO_SYNC)) {
        sync_started = pthread_create(&sync_th, NULL, sync_thread, &sy) == 0;
        if (!sync_started)
            sync_thread(&sy);
    }
    /* The copy's SHA-256: computed by a thread while it is verified; not at
     * all with --no-verify (the record then says so), except for byte copies
     * where it is the verification. */
    oh.path = j.tmp;
    if (p->kind == EV_KIND_COPY) {
        hash_thread(&oh);
    } else if (!(j.o.flags & EV_TRANSCODE__NO_VERIFY)) {
        oh_started = pthread_create(&oh_th, NULL, hash_thread, &oh) == 0;
        if (!oh_started)
            hash_thread(&oh);
    } else {
        struct stat tst;
        if (stat(j.tmp, &tst) == 0)
            oh.size = (uint64_t)tst.st_size;
    }
    if (!oh_started && oh.rc != EV_OK) {
        rc = ev_err__copy(err, &oh.err, oh.rc);
        goto done;
    }

    if (th_started) {
        pthread_join(th, NULL);
        th_started = false;
    }
    if (p->kind != EV_KIND_COPY && sh.rc != EV_OK) {
        rc = ev_err__copy(err, &sh.err, sh.rc);
        goto done;
    }

    /* verification */
    if (j.o.flags & EV_TRANSCODE__NO_VERIFY) {
        verification = json_pack("{s:s, s:s, s:[]}", "level", ev_profile__level_name(p->level),
                                 "verdict", "not-run", "problems");
    } else if (p->kind == EV_KIND_COPY) {
        bool same = strcmp(sh.hex, oh.hex) == 0 && sh.size == oh.size;
        verification = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "level", "byte-identical",
                                 "verdict", same ? "pass" : "fail", "source_sha256", sh.hex,
                                 "output_sha256", oh.hex, "problems");
        if (!same)
            json_array_append_new(json_object_get(verification, "problems"),
                                  json_string("the copy's SHA-256 differs from the source's"));
    } else {
        if ((rc = ev_transcode__verify(&verification, &vp, p->level, in_path, j.tmp, &j.o,
                                       err)) != EV_OK)
            goto done;
    }
    if (!verification) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    json_t *vprobs = json_object_get(verification, "problems");
    /* metadata read-back (always: it is cheap) */
    if (p->kind == EV_KIND_AV) {
        metadata = ev_transcode__metadata_report(&j, j.tmp, vprobs);
    } else if (p->kind == EV_KIND_STILL) {
        uint8_t *oe = NULL;
        size_t oel = 0;
        ev_errbuf e2;
        ev_transcode__file_exif(&oe, &oel, j.tmp, &e2);
        json_t *mp = json_array();
        exif = ev_transcode__exif_report(still.src_exif, still.src_exif_len,
                                         p->meta_exif == EV_META_COPY ? oe : NULL,
                                         p->meta_exif == EV_META_COPY ? oel : 0,
                                         still.orientation_applied, mp);
        if (p->meta_exif == EV_META_DROP && oe)
            json_array_append_new(mp, json_string("the copy has EXIF although the profile "
                                                  "drops it"));
        if (p->meta_exif == EV_META_DROP) {
            json_array_clear(mp);
            if (exif)
                json_object_set_new(exif, "policy", json_string("drop"));
        }
        size_t k;
        json_t *x;
        json_array_foreach(mp, k, x)
            json_array_append(vprobs, x);
        json_decref(mp);
        free(oe);
        metadata = json_object();
        if (metadata && exif)
            json_object_set(metadata, "exif", exif);
    }
    if (json_array_size(vprobs) && strcmp(json_string_value(json_object_get(verification,
                                                                            "verdict")),
                                          "pass") == 0)
        json_object_set_new(verification, "verdict", json_string("fail"));
    if (oh_started) {
        pthread_join(oh_th, NULL);
        oh_started = false;
        if (oh.rc != EV_OK) {
            rc = ev_err__copy(err, &oh.err, oh.rc);
            goto done;
        }
    }
    const char *verdict = json_string_value(json_object_get(verification, "verdict"));
    if (sync_started) {
        pthread_join(sync_th, NULL);
        sync_started = false;
    }
    if (sy.rc != EV_OK) {
        rc = ev_err__copy(err, &sy.err, sy.rc);
        goto done;
    }
    /* the record says what is about to be true: the copy is kept unless
     * the verification failed; if publishing it fails, no record is
     * returned (nor left on disk) */
    kept = strcmp(verdict, "fail") != 0;
    if (!kept)
        unlink(j.tmp);
    ev_tc_record_in ri = { p, in_path, out_path, created, j.ic, sh.hex, sh.size, oh.hex, oh.size,
                           kept, j.muxer_options, j.dropped, j.notes, metadata,
                           verification, &vp };
    if ((rc = ev_transcode__record(out_derivation, &ri, &streams, err)) != EV_OK)
        goto done;
    if (kept) {
        /* the data was flushed by the sync thread while the copy was
         * verified; publish's own flush of the file then finds nothing left */
        unsigned pf = ((j.o.flags & EV_TRANSCODE__OVERWRITE) ? EV_PUBLISH_REPLACE : 0) |
                      ((j.o.flags & EV_TRANSCODE__NO_SYNC) ? EV_PUBLISH_NOSYNC : 0);
        /* the record first: a copy at out_path then always has its record,
         * even if this process is killed between the two renames */
        if (rec_path && (rc = record_write(rec_path, *out_derivation,
                                           pf | (rec_replace ? EV_PUBLISH_REPLACE : 0),
                                           err)) != EV_OK)
            goto done;
        if ((rc = ev__publish(j.tmp, out_path, pf, "copy", err)) != EV_OK) {
            if (rec_path)
                unlink(rec_path);
            goto done;
        }
    }
    rc = EV_OK;
done:
    if (th_started)
        pthread_join(th, NULL);
    if (oh_started)
        pthread_join(oh_th, NULL);
    if (sync_started)
        pthread_join(sync_th, NULL);
    if (fd >= 0)
        close(fd);
    if (rc != EV_OK && j.tmp)
        unlink(j.tmp);
    if (rc != EV_OK && out_derivation && *out_derivation) {
        json_decref(*out_derivation);
        *out_derivation = NULL;
    }
    free(rec_path);
    if (lockfd >= 0)
        close(lockfd);
    if (j.oc) {
        if (j.oc->pb)
            avio_closep(&j.oc->pb);
        avformat_free_context(j.oc);
    }
    for (size_t i = 0; j.os && i < j.n_os; i++) {
        ost *o = &j.os[i];
        json_decref(o->runs);
        avcodec_free_context(&o->dec);
        avcodec_free_context(&o->enc);
        if (o->graph)
            j.avf->graph_free(&o->graph);
        sws_freeContext(o->sws);
        json_decref(o->settings);
    }
    free(j.os);
    avformat_close_input(&j.ic);
    ev_transcode__srcread_free(j.src);
    av_packet_free(&j.pkt);
    av_packet_free(&j.epkt);
    av_frame_free(&j.frame);
    av_frame_free(&j.ffr);
    json_decref(j.dropped);
    json_decref(j.notes);
    json_decref(j.muxer_options);
    json_decref(streams);
    json_decref(verification);
    json_decref(metadata);
    json_decref(exif);
    ev_transcode__still_free(&still);
    free(vp.s);
    free(j.tmp);
    return rc;
}
