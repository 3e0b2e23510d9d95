/*
 * Helpers shared by the transcode, verification and conformance files of
 * transcode/. Not part of any API. Where each lives: FFmpeg helpers,
 * file_sha256, add_problem, round6: transcode_av.c; source reader:
 * srcread.c; EXIF blocks: exif_blocks.c; container completeness and the
 * MOV sample table: complete.c; stored locations: location.c; pixel
 * formats and pictures: picture.c; stills: transcode_still.c; the quality
 * pass: quality.c. These files call only files below them (no circle).
 */
#ifndef EV_TRANSCODE_INT_H
#define EV_TRANSCODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "base/internal.h"
#include "transcode/transcode.h"

/* Limits applied to every input (hostile files must not hang us). */
#define EV_TC_MAX_STREAMS 64
#define EV_TC_MAX_PIXELS (1LL << 28)   /* per picture */
#define EV_TC_MAX_EXIF (1u << 20)      /* EXIF block we copy */
#define EV_TC_PROBE_SIZE (16 << 20)

/* Record an FFmpeg failure: "<what>: <av_strerror text>", mapped to an
 * ev_status (ENOENT -> EV_ENOTFOUND, ENOMEM -> EV_ENOMEM, EIO -> EV_EIO,
 * invalid data/EOF -> EV_EFORMAT, else EV_ERROR). Returns the status. */
int ev_transcode__averr(ev_errbuf *err, int averr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Demuxers of elementary streams (raw H.264/H.265 and the like): no time
 * per frame; FFmpeg numbers the frames at a rate (its default 25 fps). */
bool ev_transcode__untimed_demuxer(const char *name);

/* ev_transcode__open_input_pb, and for an elementary stream (above) the
 * frames are numbered at `rate` ("25/2"; NULL = FFmpeg's default). */
int ev_transcode__open_input_rate(AVFormatContext **out, const char *path, AVIOContext *pb,
                                  const char *rate, ev_errbuf *err);

/* Open and probe an input file with our limits. On failure *out is NULL and
 * err says what, where and what to do. EV_ENOTFOUND, EV_EIO, EV_EFORMAT. */
int ev_transcode__open_input(AVFormatContext **out, const char *path, ev_errbuf *err);

/* The same, reading through the caller's AVIOContext `pb` (which stays the
 * caller's: closing the input does not free it). pb NULL = open path. */
int ev_transcode__open_input_pb(AVFormatContext **out, const char *path, AVIOContext *pb,
                                ev_errbuf *err);

/*
 * Source reader: an AVIOContext over a file whose reads also feed the
 * file's SHA-256, computed by a thread, so that a demuxer reading the file
 * reads it once for both. Reads that continue the bytes fed so far are
 * copied to the thread; bytes the demuxer skips, or reads out of order, are
 * read by the thread itself when finishing. For Matroska files the thread
 * also walks the element structure (sizes against their parents and the
 * file's end, element IDs where they may appear) and, with check_crc,
 * checks the CRC-32 of every Cluster that carries one (libdeflate, about
 * 0.12 s of CPU per GB, on the same thread).
 */
typedef struct ev_srcread ev_srcread;
int ev_transcode__srcread_open(ev_srcread **out, const char *path, bool check_crc,
                               ev_errbuf *err);
AVIOContext *ev_transcode__srcread_pb(ev_srcread *s);
/* Hash the rest of the file, join the thread. EV_OK with hex and size;
 * EV_EFORMAT when the structure walk found damage (err: what and the byte
 * offset); EV_EIO on a read error. Call once, after the demuxer is done. */
int ev_transcode__srcread_finish(ev_srcread *s, char hex[65], uint64_t *size, ev_errbuf *err);
/* After finishing: bytes the thread had to read itself because the demuxer
 * skipped them or read them out of order (tests, diagnostics). */
uint64_t ev_transcode__srcread_own_reads(const ev_srcread *s);
/* Stops the thread (without finishing the digest) if it still runs. */
void ev_transcode__srcread_free(ev_srcread *s);

/* Normalised container name: "mp4", "mov", "3gp", "m4a", "matroska", "webm",
 * "png", "jpeg", "wav", "flac", ... (the demuxer's first name otherwise). */
void ev_transcode__container_name(char *buf, size_t n, const AVFormatContext *fc,
                                  const char *path);

/* True for a cover-art picture stream (not real video). */
bool ev_transcode__is_attached_pic(const AVStream *st);

/* Open a decoder for a stream: threads auto, bit-exact flags (simple IDCT),
 * size limits. `careful` adds CRC checks and error explosion (conformance). */
int ev_transcode__open_decoder(AVCodecContext **out, const AVStream *st, bool careful,
                               ev_errbuf *err);

/* Bytes per interleaved sample frame of a decoded audio frame. */
size_t ev_transcode__audio_frame_bytes(const AVFrame *f);

/* Append the interleaved (packed) bytes of a decoded audio frame at native
 * depth to buf. */
int ev_transcode__audio_interleave(ev_buf *buf, const AVFrame *f);

/* Copy a decoded picture into one packed buffer (align 1), as hashed by the
 * content hashes. *out is malloc'd. */
int ev_transcode__picture_bytes(uint8_t **out, size_t *len, const AVFrame *f);

/* EXIF helpers (still images). The returned blocks start at the TIFF header
 * ("II*\0" / "MM\0*"), without the "Exif\0\0" prefix. *out is malloc'd,
 * NULL/0 when there is no EXIF. Return EV_OK, EV_ENOMEM or EV_EFORMAT
 * (a malformed container walk), EV_EIO. */
int ev_transcode__file_exif(uint8_t **out, size_t *len, const char *path, ev_errbuf *err);

/* Insert an eXIf chunk after IHDR into a PNG held in memory. */
int ev_transcode__png_add_exif(uint8_t **png, size_t *png_len, const uint8_t *exif,
                               size_t exif_len);

/* Does the container structure reach the end the file claims? Checks the
 * Matroska Segment size, the MP4/MOV top-level boxes and the WAV RIFF size
 * against the file size. Returns EV_OK, or EV_EFORMAT with a message in err
 * when the file is truncated (or its structure is broken). */
int ev_transcode__container_complete(const char *path, const char *demuxer, ev_errbuf *err);

/* MP4/MOV: the sample table as stored, edit lists ignored (an edit list may
 * leave samples unpresented: AAC priming and padding, iPhone and iTunes
 * files trim the last packets). counts[i] gets the number of samples of
 * stream i (i < n). Every sample must lie inside the file: EV_EFORMAT with
 * "the file is truncated: stream #i (codec), sample k of N lies at bytes
 * a-b, but the file ends at byte c" in err when one does not. Any other
 * failure (the table cannot be read this way) is EV_ERROR, counts all 0. */
int ev_transcode__mov_sample_table(int64_t *counts, unsigned n, const char *path,
                                   ev_errbuf *err);

/* A location as the file stores it (not FFmpeg's rendering of it). */
typedef struct ev_tc_loc {
    char from[64];      /* "quicktime:mdta:com.apple.quicktime.location.ISO6709",
                           "quicktime:udta:\u00a9xyz", "quicktime:udta:loci",
                           "matroska:tag:LOCATION", "tag:location" */
    char format[24];    /* "iso6709" or "3gpp-loci-16.16" */
    char raw[160];      /* the ISO 6709 string as stored; for loci the stored
                           fixed-point values written out exactly */
    bool has_num;       /* latitude/longitude parsed */
    double lat, lon, alt;
    bool has_alt;
    double precision;   /* step of the stored latitude, degrees (0 = unknown) */
} ev_tc_loc;

/* The location a file stores: for MP4/MOV/3GP the boxes themselves (mdta key
 * com.apple.quicktime.location.ISO6709 in moov/meta, as Apple writes it, or
 * in moov/udta/meta, as FFmpeg does; else moov/udta (c)xyz; else moov/udta
 * loci), otherwise the "location" tag FFmpeg reports (Matroska tags are
 * strings, kept as stored). fc is the file opened by FFmpeg (for its demuxer
 * name and tags). Returns true when one was found. */
bool ev_transcode__stored_location(ev_tc_loc *out, const AVFormatContext *fc, const char *path);

/* The copy's location (b) against the source's (a), both as stored, NULL
 * when absent: {"source", "output" (the stored strings), "status",
 * "source_stored"/"output_stored" ({"from", "format", "precision_deg"}),
 * "precision_deg" when rounded}. "kept" only when the value is the same (to
 * 1e-12 degree; the stored form may differ, e.g. loci written out as an ISO
 * 6709 string: both forms are given); "rounded" when the copy holds the
 * value at a coarser step, within one step (rounded or truncated: FFmpeg's
 * loci writer truncates); else "changed", "dropped",
 * "added" or "absent". With strict (a verbatim profile), "changed" and
 * "rounded" are added to problems. */
json_t *ev_transcode__location_report(const ev_tc_loc *a, const ev_tc_loc *b, json_t *problems,
                                      bool strict);

/* Write an ISO 6709 string for lat/lon(/alt) with `dec` decimals (trailing
 * zeros dropped): "+52.369293+004.894512/". */
void ev_transcode__iso6709_format(char *buf, size_t n, double lat, double lon, bool has_alt,
                                  double alt, int dec);

/* SHA-256 of a whole file into hex; size too. EV_OK, EV_ENOTFOUND, EV_EIO. */
int ev_transcode__file_sha256(char hex[65], uint64_t *size, const char *path,
                              ev_errbuf *err);

/* Output pixel format for a video/still rule and an encoder. */
typedef struct ev_fmt_choice {
    int fmt;          /* format the encoder is fed */
    bool convert;     /* frames are converted (libswscale) */
    bool repack;      /* ...but only rearranged: lossless by construction */
    bool declared;    /* the conversion is the profile's (pix_fmt or fallback_pix_fmt) */
    char why[200];    /* refusal message, or a note */
} ev_fmt_choice;

/* Choose the output pixel format: the rule's pix_fmt; else the source's if
 * the encoder takes it; else its full-range alias; else a lossless repack;
 * else the rule's fallback_pix_fmt. Returns EV_OK or EV_EUNSUPPORTED (why). */
int ev_transcode__choose_pix_fmt(ev_fmt_choice *c, const AVCodec *enc, int src_fmt,
                                 const ev_profile_rule *r);

/* Two formats hold the same components at the same depths and subsampling,
 * only arranged differently (packed/planar, order, endianness, padding). */
bool ev_transcode__is_repack(int a, int b);

/* Still pictures (transcode_still.c). */
typedef struct ev_still_out {
    json_t *settings;        /* stream settings for the record */
    ev_vstream vs;           /* how to verify */
    uint8_t *src_exif;       /* source EXIF (TIFF structure), or NULL */
    size_t src_exif_len;
    int orientation;         /* source EXIF orientation (0 = none) */
    bool orientation_applied;
} ev_still_out;

/* Decode the one picture of in_path, encode PNG, add the EXIF, write to fd. */
int ev_transcode__still(ev_still_out *o, const ev_profile *p, const char *in_path, int fd,
                        uint32_t flags, ev_errbuf *err);
void ev_transcode__still_free(ev_still_out *o);

/* Compare the EXIF of source and copy: {"source_bytes", "output_bytes",
 * "identical", "changed_tags": [...], "allowed_changes": [...]}; changes
 * outside the allow-list are added to problems. */
json_t *ev_transcode__exif_report(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
                                  bool orientation_reset, json_t *problems);

/* Quality-bounded verification of one video stream (quality.c): source and
 * copy decoded in lockstep; out gets the stream's figures, problems inside. */
int ev_transcode__quality_stream(json_t **out, const ev_vstream *vs, const ev_vplan *plan,
                                 const char *src_path, const char *out_path,
                                 const ev_transcode__opts *opts, ev_errbuf *err);

/* The pixel format PSNR/SSIM are measured in for a copy in format f: f
 * (its limited-range alias) when it is 8-bit planar YUV or gray, else
 * yuv444p (picture.c). */
int ev_transcode__metric_fmt(int f);

/* Append a formatted problem (at most 511 bytes) to a JSON array. */
void ev_transcode__add_problem(json_t *arr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A figure rounded to 6 decimals, for the records. */
double ev_transcode__round6(double v);

#endif
