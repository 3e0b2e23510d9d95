/* Unit tests for src/profile.c: loading, validation messages, catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "profile/profile.h"
#include "testutil.h"

static const char *const shipped[] = { "master", "working-copy-h264", "archive-ffv1",
                                       "remux-mkv", "remux-mp4", "still-png",
                                       "audio-flac", "audio-wav" };

static char *source_profiles(void)
{
    const char *src = getenv("EV_SOURCE_DIR");
    return tu_join(src ? src : ".", "profiles");
}

static void profile_shipped_profiles_load(void **state)
{
    (void)state;
    char *dir = source_profiles();
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        ev_errbuf err = { "" };
        ev_profile *p = NULL;
        const char *dirs[] = { dir };
        int rc = ev_profile__find(&p, dirs, 1, shipped[i], &err);
        if (rc != EV_OK)
            fail_msg("%s: %s", shipped[i], err.msg);
        assert_string_equal(p->name, shipped[i]);
        assert_int_equal(strlen(p->sha256), 64);
        assert_null(p->unavailable);
        ev_profile__free(p);
    }
    free(dir);
}

static void profile_shipped_settings(void **state)
{
    (void)state;
    char *dir = source_profiles();
    const char *dirs[] = { dir };
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    assert_int_equal(ev_profile__find(&p, dirs, 1, "archive-ffv1", &err), EV_OK);
    assert_int_equal(p->level, EV_LEVEL_DECODED);
    assert_string_equal(p->container, "matroska");
    const ev_profile_rule *r = &p->streams[EV_ST_VIDEO].rules[0];
    assert_string_equal(r->encoder, "ffv1");
    assert_string_equal(ev_profile__kv_get(r->options, r->n_options, "slices"), "16");
    assert_string_equal(ev_profile__kv_get(r->options, r->n_options, "g"), "1");
    assert_null(r->pix_fmt); /* source pixel format */
    ev_profile__free(p);

    assert_int_equal(ev_profile__find(&p, dirs, 1, "working-copy-h264", &err), EV_OK);
    assert_int_equal(p->level, EV_LEVEL_QUALITY);
    assert_true(p->ssim_mean_min > 0.9);
    assert_int_equal(p->streams[EV_ST_VIDEO].select, EV_SELECT_FIRST);
    assert_string_equal(p->streams[EV_ST_VIDEO].rules[0].pix_fmt, "yuv420p");
    assert_int_equal(p->streams[EV_ST_AUDIO].rules[0].action, EV_ACTION_COPY);
    assert_true(ev_profile__list_match(&p->streams[EV_ST_AUDIO].rules[0].when_codecs, "aac"));
    assert_false(ev_profile__list_match(&p->streams[EV_ST_AUDIO].rules[0].when_codecs, "mp3"));
    assert_true(p->requires & (1u << EV_ST_VIDEO));
    ev_profile__free(p);
    free(dir);
}

/* A minimal valid profile with one substitution, to test each message. */
typedef struct bad_case {
    const char *json;
    const char *expect; /* substring of the message */
} bad_case;

#define HEAD "{\"profile_format\":1,\"name\":\"t\",\"kind\":\"av\","
#define OUT_OK "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"copy\"}]}},"
#define VER_OK "\"verification\":{\"level\":\"packet-identical\"}"

static void profile_valid_minimal(void **state)
{
    (void)state;
    const char *j = HEAD OUT_OK VER_OK "}";
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    int rc = ev_profile__load_buffer(&p, j, strlen(j), "t.json", &err);
    if (rc != EV_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(p->streams[EV_ST_VIDEO].select, EV_SELECT_ALL);
    assert_int_equal(p->streams[EV_ST_AUDIO].select, EV_SELECT_NONE);
    assert_string_equal(p->extension, "mkv");
    assert_string_equal(p->action, "transcoded");
    ev_profile__free(p);
}

static void profile_bad_profiles_named_field(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "", "not valid JSON at line" },
        { "[1,2]", "(top level): must be a JSON object" },
        { "{\"profile_format\":1,\"name\":\"t\",\"name\":\"u\"}", "duplicate" },
        { "{\"name\":\"t\"}", "profile_format: missing" },
        { "{\"profile_format\":2}", "profile_format: 2 is not understood" },
        { "{\"profile_format\":\"1\"}", "profile_format: must be an integer" },
        { HEAD OUT_OK VER_OK ",\"verfication\":{}}", "verfication: unknown key" },
        { "{\"profile_format\":1,\"name\":\"Bad Name\",\"kind\":\"av\"}", "name: 'Bad Name' is not a valid" },
        { "{\"profile_format\":1,\"name\":\"t\",\"kind\":\"film\"}", "kind: 'film' is not allowed" },
        { HEAD OUT_OK "\"verification\":{\"level\":\"exact\"}}", "verification.level: 'exact' is not allowed" },
        { HEAD OUT_OK "\"verification\":{}}", "verification.level: missing" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"copy\"}]}}}", "verification: missing" },
        { HEAD VER_OK "}", "output: missing" },
        { HEAD "\"output\":{\"container\":\"mkv2\"}," VER_OK "}", "output.container: 'mkv2' is not a muxer" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\"}]}},"
          "\"verification\":{\"level\":\"quality-bounded\"}}", "output.video.rules[0].encoder: missing" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"nosuch\"}]}},"
          "\"verification\":{\"level\":\"quality-bounded\"}}", "output.video.rules[0].encoder: 'nosuch' is not an encoder" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"flac\"}]}},"
          "\"verification\":{\"level\":\"decoded-identical\"}}", "'flac' is not a video encoder" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"ffv1\",\"options\":{\"slicez\":\"4\"}}]}},"
          "\"verification\":{\"level\":\"decoded-identical\"}}", "options.slicez: encoder 'ffv1' has no such option" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"ffv1\",\"options\":{\"context\":\"lots\"}}]}},"
          "\"verification\":{\"level\":\"decoded-identical\"}}", "options.context: encoder 'ffv1' refuses the value 'lots'" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"mpeg4\"}]}},"
          "\"verification\":{\"level\":\"decoded-identical\"}}", "encoder 'mpeg4' is not lossless" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"ffv1\"}]}},"
          "\"verification\":{\"level\":\"packet-identical\"}}", "a packet-identical profile can only copy" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\",\"encoder\":\"ffv1\",\"pix_fmt\":\"yuv999\"}]}},"
          "\"verification\":{\"level\":\"decoded-identical\"}}", "pix_fmt: 'yuv999' is not a pixel format" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"audio\":{\"rules\":[{\"when\":{\"codecs\":[\"aac\",\"nope\"]},\"action\":\"copy\"}]}},"
          VER_OK "}", "when.codecs: 'nope' is not a known codec name" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"audio\":{\"rules\":[{\"action\":\"refuse\"}]}},"
          VER_OK "}", "rules[0].message: missing" },
        { HEAD "\"output\":{\"container\":\"matroska\",\"audio\":{\"select\":\"all\"}}," VER_OK "}", "rules: missing" },
        { HEAD OUT_OK "\"verification\":{\"level\":\"packet-identical\",\"ssim_min\":0.9}}", "thresholds apply only to" },
        { HEAD OUT_OK "\"verification\":{\"level\":\"quality-bounded\",\"ssim_min\":1.5}}", "ssim_min: 1.5 is out of range" },
        { HEAD OUT_OK "\"verification\":{\"level\":\"byte-identical\"}}", "byte-identical goes with" },
        { HEAD OUT_OK VER_OK ",\"conformance\":[{\"check\":\"colour\",\"equals\":\"red\"}]}", "conformance[0].check: 'colour' is not a known check" },
        { HEAD OUT_OK VER_OK ",\"conformance\":[{\"check\":\"gop\",\"equals\":\"1\"}]}", "conformance[0].equals: must be an integer" },
        { HEAD OUT_OK VER_OK ",\"conformance\":[{\"check\":\"container\",\"min\":3}]}", "min and max apply to numeric checks only" },
        { HEAD OUT_OK VER_OK ",\"conformance\":[{\"check\":\"gop\"}]}", "give exactly one of equals" },
        { HEAD OUT_OK VER_OK ",\"conformance\":[{\"check\":\"gop\",\"min\":1,\"max\":2}]}", "give exactly one of equals" },
        { HEAD OUT_OK VER_OK ",\"accepts\":{\"requires\":[\"video\"],\"forbids\":[\"video\"]}}", "both required and forbidden" },
        { HEAD OUT_OK VER_OK ",\"accepts\":{\"requires\":[\"smell\"]}}", "accepts.requires: entry 0 must be one of" },
        { HEAD OUT_OK VER_OK ",\"metadata\":{\"location\":\"rounded\"}}", "metadata.location: 'rounded' is not allowed" },
        { "{\"profile_format\":1,\"name\":\"t\",\"kind\":\"copy\",\"output\":{},\"verification\":{\"level\":\"byte-identical\"}}",
          "takes no output settings" },
        { HEAD "\"output\":{\"container\":\"mp4\",\"muxer_options\":{\"movflags\":\"+warp\"}}," VER_OK "}",
          "muxer_options: movflags: muxer 'mp4' refuses" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ev_errbuf err = { "" };
        ev_profile *p = (ev_profile *)&err; /* must be reset to NULL */
        int rc = ev_profile__load_buffer(&p, cases[i].json, strlen(cases[i].json), "t.json",
                                         &err);
        if (rc == EV_OK)
            fail_msg("case %zu loaded but should fail: %s", i, cases[i].json);
        assert_int_equal(rc, EV_EFORMAT);
        assert_null(p);
        if (!strstr(err.msg, cases[i].expect))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].expect);
        assert_non_null(strstr(err.msg, "profile 't.json': "));
    }
}

static void profile_file_name_must_match(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("profile");
    char *path = tu_join(dir, "other.json");
    const char *j = HEAD OUT_OK VER_OK "}";
    assert_int_equal(tu_write(path, j, strlen(j)), 0);
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    assert_int_equal(ev_profile__load_file(&p, path, &err), EV_EFORMAT);
    assert_non_null(strstr(err.msg, "does not match the file name"));
    free(path);

    /* a missing file */
    path = tu_join(dir, "absent.json");
    assert_int_equal(ev_profile__load_file(&p, path, &err), EV_ENOTFOUND);
    assert_non_null(strstr(err.msg, "cannot open"));
    free(path);
    tu_rmrf(dir);
    free(dir);
}

static void profile_too_large_refused(void **state)
{
    (void)state;
    size_t n = EV_PROFILE_MAX_BYTES + 10;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    assert_int_equal(ev_profile__load_buffer(&p, big, n, "big.json", &err), EV_EFORMAT);
    assert_non_null(strstr(err.msg, "at most"));
    free(big);
}

static void profile_catalog_scan_find_and_problems(void **state)
{
    (void)state;
    char *a = tu_mkdtemp("catalog-a");
    char *b = tu_mkdtemp("catalog-b");
    const char *good = "{\"profile_format\":1,\"name\":\"t\",\"title\":\"first\",\"kind\":\"av\","
                       OUT_OK VER_OK "}";
    const char *shadow = "{\"profile_format\":1,\"name\":\"t\",\"title\":\"second\",\"kind\":\"av\","
                         OUT_OK VER_OK "}";
    const char *broken = "{\"profile_format\":1,\"name\":\"broken\",";
    char *p1 = tu_join(a, "t.json"), *p2 = tu_join(b, "t.json"), *p3 = tu_join(b, "broken.json");
    char *p4 = tu_join(b, "notes.txt");
    assert_int_equal(tu_write(p1, good, strlen(good)), 0);
    assert_int_equal(tu_write(p2, shadow, strlen(shadow)), 0);
    assert_int_equal(tu_write(p3, broken, strlen(broken)), 0);
    assert_int_equal(tu_write(p4, "x", 1), 0);

    ev_profile_catalog *c = NULL;
    assert_int_equal(ev_profile_catalog_new(&c), EV_OK);
    char list[4096];
    snprintf(list, sizeof(list), "%s::%s/", a, b);
    assert_int_equal(ev_profile_catalog_add_path_list(c, list), EV_OK);
    assert_int_equal(ev_profile_catalog_dir_count(c), 2);
    assert_int_equal(ev_profile_catalog_scan(c), EV_OK);
    assert_int_equal(ev_profile_catalog_count(c), 1);
    assert_string_equal(ev_profile_title(ev_profile_catalog_at(c, 0)), "first");
    assert_int_equal(ev_profile_catalog_problem_count(c), 1);
    assert_non_null(strstr(ev_profile_catalog_problem(c, 0), "broken.json"));
    assert_non_null(strstr(ev_profile_catalog_problem(c, 0), "not valid JSON"));
    assert_null(ev_profile_catalog_at(c, 1));

    const ev_profile *p = NULL;
    assert_int_equal(ev_profile_catalog_find(&p, c, "t"), EV_OK);
    assert_string_equal(ev_profile_title(p), "first");
    assert_int_equal(ev_profile_catalog_find(&p, c, "nothere"), EV_ENOTFOUND);
    assert_null(p);
    assert_non_null(strstr(ev_profile_catalog_last_error(c), a));
    assert_non_null(strstr(ev_profile_catalog_last_error(c), "not found"));
    assert_int_equal(ev_profile_catalog_find(&p, c, "../etc"), EV_ENOTFOUND);
    assert_int_equal(ev_profile_catalog_find(&p, c, "Bad Name"), EV_EINVAL);
    assert_int_equal(ev_profile_catalog_find(&p, c, p2), EV_OK); /* a path */
    assert_string_equal(ev_profile_title(p), "second");

    char *js = NULL;
    assert_int_equal(ev_profile_json(&js, p), EV_OK);
    assert_non_null(strstr(js, "\"sha256\":"));
    assert_non_null(strstr(js, "\"level\":\"packet-identical\""));
    ev_free(js);
    ev_profile_catalog_free(c);
    ev_profile_catalog_free(NULL);

    free(p1);
    free(p2);
    free(p3);
    free(p4);
    tu_rmrf(a);
    tu_rmrf(b);
    free(a);
    free(b);
}

static void profile_sha256_is_of_the_bytes(void **state)
{
    (void)state;
    const char *j = HEAD OUT_OK VER_OK "}";
    ev_errbuf err = { "" };
    ev_profile *p = NULL, *q = NULL;
    assert_int_equal(ev_profile__load_buffer(&p, j, strlen(j), "t.json", &err), EV_OK);
    char *j2 = ev__asprintf("%s\n", j);
    assert_int_equal(ev_profile__load_buffer(&q, j2, strlen(j2), "t.json", &err), EV_OK);
    assert_string_not_equal(p->sha256, q->sha256);
    char hex[65];
    ev_hash__sha256_hex(hex, j, strlen(j));
    assert_string_equal(p->sha256, hex);
    free(j2);
    ev_profile__free(p);
    ev_profile__free(q);
}

/* ev_profile_text(), ev_profile_catalog_text(), ev_profile_document_json()
 * and ev_profile_catalog_json(): what `evidence profiles` prints. */
static void profile_text_and_documents(void **state)
{
    (void)state;
    char *a = tu_mkdtemp("catalog-text");
    const char *good = "{\"profile_format\":1,\"name\":\"t\",\"title\":\"first\",\"kind\":\"av\","
                       OUT_OK VER_OK "}";
    const char *broken = "{\"profile_format\":1,\"name\":\"broken\",";
    char *p1 = tu_join(a, "t.json"), *p2 = tu_join(a, "broken.json");
    assert_int_equal(tu_write(p1, good, strlen(good)), 0);
    assert_int_equal(tu_write(p2, broken, strlen(broken)), 0);
    ev_profile_catalog *c = NULL;
    assert_int_equal(ev_profile_catalog_new(&c), EV_OK);
    assert_int_equal(ev_profile_catalog_add_dir(c, a), EV_OK);
    assert_int_equal(ev_profile_catalog_scan(c), EV_OK);
    const ev_profile *p = ev_profile_catalog_at(c, 0);
    assert_non_null(p);
    char *s = NULL, want[8192];

    assert_int_equal(ev_profile_catalog_text(&s, c), EV_OK);
    snprintf(want, sizeof(want), "%-20s %-18s %s\n", "t", ev_profile_level(p), "first");
    assert_string_equal(s, want);
    ev_free(s);

    assert_int_equal(ev_profile_text(&s, p), EV_OK);
    snprintf(want, sizeof(want), "name:     t\ntitle:    first\nlevel:    %s\nfile:     %s\n"
             "sha256:   %s\n\n{\n  \"profile_format\": 1,\n  \"name\": \"t\",\n",
             ev_profile_level(p), p1, ev_profile_sha256(p));
    assert_true(strncmp(s, want, strlen(want)) == 0);
    assert_string_equal(s + strlen(s) - 3, "\n}\n");
    ev_free(s);

    assert_int_equal(ev_profile_document_json(&s, p), EV_OK);
    json_t *d = json_loads(s, 0, NULL);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "format")), "evidence.profile");
    char *one = NULL;
    assert_int_equal(ev_profile_json(&one, p), EV_OK);
    json_t *o = json_loads(one, 0, NULL);
    assert_true(json_equal(json_object_get(d, "profile"), o));
    const char *head = "{\n  \"format\": \"evidence.profile\",\n";
    assert_true(strncmp(s, head, strlen(head)) == 0);
    json_decref(o);
    json_decref(d);
    ev_free(one);
    ev_free(s);

    assert_int_equal(ev_profile_catalog_json(&s, c), EV_OK);
    d = json_loads(s, 0, NULL);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "format")), "evidence.profiles");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "search_path"), 0)), a);
    assert_int_equal(json_array_size(json_object_get(d, "profiles")), 1);
    const char *msg = json_string_value(
        json_object_get(json_array_get(json_object_get(d, "problems"), 0), "message"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "broken.json"));
    json_decref(d);
    ev_free(s);

    s = (char *)"x";
    assert_int_equal(ev_profile_text(&s, NULL), EV_EINVAL);
    assert_null(s);
    assert_int_equal(ev_profile_catalog_text(NULL, c), EV_EINVAL);
    assert_int_equal(ev_profile_catalog_json(&s, NULL), EV_EINVAL);
    assert_int_equal(ev_profile_document_json(&s, NULL), EV_EINVAL);
    ev_profile_catalog_free(c);
    tu_rmrf(a);
    free(a);
    free(p1);
    free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profile_shipped_profiles_load),
        cmocka_unit_test(profile_shipped_settings),
        cmocka_unit_test(profile_valid_minimal),
        cmocka_unit_test(profile_bad_profiles_named_field),
        cmocka_unit_test(profile_file_name_must_match),
        cmocka_unit_test(profile_too_large_refused),
        cmocka_unit_test(profile_catalog_scan_find_and_problems),
        cmocka_unit_test(profile_sha256_is_of_the_bytes),
        cmocka_unit_test(profile_text_and_documents),
    };
    return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
