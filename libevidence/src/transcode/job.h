/*
 * The state of one audio/video transcode job, shared by the files that run
 * it (transcode.c: the order of work; plan.c: the plan and the stream and
 * container setup; pass.c: the pass; metadata.c: the metadata read-back;
 * job.c: the job's notes and refusals). Not part of any API; included only
 * by those files, so the short type names (ost, job) stay among them.
 */
#ifndef EV_TRANSCODE_JOB_H
#define EV_TRANSCODE_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "transcode/avfilter_dl.h"
#include "transcode/transcode.h"
#include "transcode/transcode_int.h"

typedef struct ost {
    int in_idx, out_idx;
    ev_stype type;
    ev_action action;
    const ev_profile_rule *rule;
    AVStream *ist, *st;
    AVCodecContext *dec, *enc;
    /* video */
    ev_fmt_choice fmt;
    struct SwsContext *sws;
    int width, height, src_fmt;
    int64_t last_pts;
    int64_t last_mux_dts;    /* copy: last DTS written, output time base */
    int64_t ts_fixed;        /* copy: packets whose DTS had to be raised */
    /* audio */
    AVFilterGraph *graph;
    AVFilterContext *asrc, *asink;
    char filter_desc[320];
    /* counters */
    int64_t frames_in, frames_out, packets_in, packets_out;
    int nal_len;             /* copy: H.264/HEVC length-prefixed NAL units, bytes per
                                length (1..4); 0 = not checked */
    json_t *settings;
    /* timing (video): DAV frame stamps are ms of a camera-local wall clock;
     * the copy's times start at 0 (shifted by ts_offset, in the source's
     * time base) and the record maps every frame to its stamp as runs of
     * equal steps (settings.streams[].timing.frame_times) */
    bool stamps;
    bool assumed;            /* no time per frame: frame n is at n / the stated rate */
    int64_t ts_offset;       /* AV_NOPTS_VALUE until the first packet */
    json_t *runs;
    int64_t run_frame, run_first, run_last, run_step, run_n, run_out, frames_stamped;
    int64_t last_out;        /* the copy's time of the last frame, ms */
    int64_t rebased, impossible; /* frames timed after a step back, impossible dates */
    int64_t last_end;        /* DAV: byte after the last packet's payload, -1 = none */
    int64_t first_stamp;     /* the first possible stamp, AV_NOPTS_VALUE = none */
    bool runs_truncated;
    /* copy: packets with no time of their own (MPEG-PS gives one only to the
     * first frame of a PES packet) get the previous one's plus its duration */
    int64_t next_ts, last_dur, untimed;
} ost;

typedef struct job {
    const ev_profile *p;
    const char *in, *out;
    char *tmp;
    ev_transcode__opts o;
    ev_errbuf *err;
    AVFormatContext *ic, *oc;
    ev_srcread *src;        /* the source, read once for demuxing and hashing */
    ost *os;
    size_t n_os;
    int map[EV_TC_MAX_STREAMS];
    /* MP4/MOV: samples in each stream's sample table (edit lists ignored) and
     * packets the demuxer's index promises (edit lists applied); 0 = unknown */
    int64_t table_pkts[EV_TC_MAX_STREAMS], index_pkts[EV_TC_MAX_STREAMS];
    ev_tc_loc src_loc;      /* the source's location as stored */
    bool has_src_loc;
    json_t *dropped;
    json_t *notes;
    json_t *muxer_options;
    int64_t last_progress;
    AVPacket *pkt, *epkt;
    AVFrame *frame, *ffr;
    /* libavfilter, loaded when the first audio filter graph is set up
     * (avfilter_dl.h); NULL while no stream needs one */
    const ev_avfilter_api *avf;
} job;

/* job.c: add a note to the record's settings.notes. */
void ev_transcode__note(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* job.c: damaged input into a copy: refused (EV_EFORMAT), naming the file and
 * what is wrong where, and what to do instead. Returns EV_EFORMAT. */
int ev_transcode__refuse_damaged(job *j, const char *what);

/* plan.c: which source stream is copied, encoded or dropped (j->os, j->map,
 * j->dropped); refusals. EV_OK, EV_EUNSUPPORTED, EV_ENOMEM. */
int ev_transcode__plan(job *j);

/* plan.c: set up one output stream of the plan on j->oc: a stream copy, a
 * video or an audio encoder (with its filter graph). */
int ev_transcode__setup_copy(job *j, ost *o);
int ev_transcode__setup_video(job *j, ost *o);
int ev_transcode__setup_audio(job *j, ost *o);

/* plan.c: container tags, creation time and location of the copy, by the
 * profile's metadata policy; may add muxer options (movflags). */
int ev_transcode__setup_container_meta(job *j, AVDictionary **mux_opts);

/* plan.c: tags that are never carried over (encoder, statistics, brands). */
bool ev_transcode__strip_tag(const char *k);

/* plan.c: tags holding a location ("location*", the Apple ISO 6709 key). */
bool ev_transcode__is_location_key(const char *k);

/* pass.c: MP4/MOV: every sample the index lists must lie inside the file
 * (fills j->index_pkts and j->table_pkts); a refusal otherwise. */
int ev_transcode__check_index(job *j);

/* pass.c: the one pass: packets copied, or decoded, converted and encoded,
 * then the encoders flushed and the streams checked for completeness. */
int ev_transcode__run_pass(job *j);

/* pass.c: report progress to the caller's callback (at most every 0.1 s
 * unless final); EV_ECANCELED when it asks to stop. */
int ev_transcode__progress(job *j, bool final);

/* metadata.c: read the copy back and list what was kept, changed or dropped
 * (creation time, location, rotation, container tags); problems gets what
 * breaks the profile's policy. */
json_t *ev_transcode__metadata_report(job *j, const char *out_path, json_t *problems);

#endif
