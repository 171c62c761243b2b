/*
 * ipfs.c: an export bundle to and from an IPFS node (ipfs.h).
 *
 * Kubo and js-ipfs serve the same /api/v0 with two differences handled
 * here: js-ipfs prints CIDs in base58btc unless cid-base=base32 is passed,
 * and gives "Size" as a number where Kubo gives a string. Every CID the
 * node answers is read with cid_parse and compared as bytes, so either base
 * and either version compare right. Every option that changes the CID is
 * passed explicitly (a node's configuration may change its defaults).
 */
#define _GNU_SOURCE
#include "ipfs.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADD_QUERY                                                                                  \
    "cid-version=1&raw-leaves=true&chunker=size-262144&hash=sha2-256&trickle=false"                \
    "&wrap-with-directory=false&pin=true&progress=false&cid-base=base32"
#define BODY_MAX (1 << 20) /* the most of a JSON answer or an error kept */

/* An answer being received: JSON kept in memory, or (cat) the bytes going
 * to fd and through h. */
struct resp {
    CURL *curl;
    char *body;
    size_t len;
    int fd;                /* cat: where a 200 answer's bytes go, else -1 */
    struct cid_hasher *h;  /* cat: hashes them */
    uint64_t got;          /* cat: bytes received */
    int too_big, io_error; /* cat */
    const uint8_t *up;     /* add: the upload */
    size_t up_len, up_off;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct resp *r = arg;
    size_t n = size * nmemb;
    long code = 0;

    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
    if (r->fd >= 0 && code == 200) {
        if (r->got + n > IPFS_MAX_FETCH) {
            r->too_big = 1;
            return 0;
        }
        for (size_t off = 0; off < n;) {
            ssize_t w = write(r->fd, p + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                r->io_error = errno ? errno : EIO;
                return 0;
            }
            off += (size_t)w;
        }
        if (cid_update(r->h, p, n) != 0) {
            r->io_error = ENOMEM;
            return 0;
        }
        r->got += n;
        return n;
    }
    if (r->len + n > BODY_MAX)
        return 0;
    {
        char *b = realloc(r->body, r->len + n + 1);
        if (b == NULL)
            return 0;
        r->body = b;
    }
    memcpy(r->body + r->len, p, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_upload(char *p, size_t size, size_t nitems, void *arg)
{
    struct resp *r = arg;
    size_t n = size * nitems;

    if (n > r->up_len - r->up_off)
        n = r->up_len - r->up_off;
    memcpy(p, r->up + r->up_off, n);
    r->up_off += n;
    return n;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
    struct resp *r = arg;

    if (origin != SEEK_SET || off < 0 || (size_t)off > r->up_len)
        return CURL_SEEKFUNC_CANTSEEK;
    r->up_off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

/* The node's message in an error answer: {"Message": ...} as both send
 * it, else the start of the body. Into msg (n bytes). */
static void node_message(const struct resp *r, char *msg, size_t n)
{
    json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "Message"));

    snprintf(msg, n, "%.300s", m ? m : r->body ? r->body : "(no message)");
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    json_decref(j);
}

/* POST api + path (a query already in it) with the multipart upload
 * r->up when set. Returns the HTTP status, or -1 with err (transport). */
static long rpc(const char *api, const char *path, const char *name, struct resp *r,
                struct sd_err *err)
{
    char cerr[CURL_ERROR_SIZE] = "", *url = NULL;
    size_t al = strlen(api);
    curl_mime *mime = NULL;
    long code = -1;
    CURLcode cc;

    while (al > 0 && api[al - 1] == '/')
        al--;
    if (al >= 7 && strncmp(api + al - 7, "/api/v0", 7) == 0)
        al -= 7;
    if (asprintf(&url, "%.*s/api/v0/%s", (int)al, api, path) < 0)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    if ((r->curl = curl_easy_init()) == NULL) {
        free(url);
        return sd_err_set(err, SD_ENOMEM, "cannot create a curl handle");
    }
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* A node that stops sending (a block nobody has) is given up on. */
    curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, cerr);
    if (r->up != NULL) {
        curl_mimepart *part;
        mime = curl_mime_init(r->curl);
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filename(part, name);
        curl_mime_type(part, "application/octet-stream");
        curl_mime_data_cb(part, (curl_off_t)r->up_len, on_upload, on_seek, NULL, r);
        curl_easy_setopt(r->curl, CURLOPT_MIMEPOST, mime);
    } else {
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    cc = curl_easy_perform(r->curl);
    if (cc == CURLE_OK || r->too_big || r->io_error)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
    else
        sd_err_set(err, SD_EENV, "the IPFS node cannot be reached: %s",
                   cerr[0] ? cerr : curl_easy_strerror(cc));
    curl_mime_free(mime);
    curl_easy_cleanup(r->curl);
    r->curl = NULL;
    free(url);
    return code;
}

/* The CID the node answered (got, either base; may be NULL) compared with
 * want (wlen bytes, the local CID cid). Returns 0 when equal, -1 with err
 * saying what the node did (what) and with which CID. */
static int same_cid(const char *got, const uint8_t *want, int wlen, const char *what,
                    const char *cid, struct sd_err *err)
{
    uint8_t bin[CID_BIN_MAX] = {0};
    char s[CID_STR_MAX] = "?";
    int n = got ? cid_parse(got, bin) : -1;

    if (n == wlen && memcmp(bin, want, (size_t)n) == 0)
        return 0;
    if (n > 0)
        cid_format(bin, (size_t)n, s);
    return sd_err_set(err, SD_EFAIL,
                      "the IPFS node %s %s, not %s as computed here: the bundle was NOT "
                      "published as %s (does the node chunk differently from the default "
                      "size-262144, balanced, 174 links?)",
                      what,
                      n > 0 ? s
                      : got ? "an unreadable CID"
                            : "no CID",
                      cid, cid);
}

/* 1 when the node's "Size" (absent, a decimal string as Kubo sends it,
 * or a number as js-ipfs does) is absent or equals want. */
static int size_is(json_t *v, uint64_t want)
{
    const char *s = json_string_value(v);
    char *end;
    unsigned long long n;

    if (v == NULL)
        return 1;
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) == want;
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    n = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && n == want;
}

int ipfs_add_pin(const char *api, const void *buf, size_t n, const char *name, const char *cid,
                 uint64_t tsize, struct sd_err *err)
{
    struct resp r = {.fd = -1, .up = buf, .up_len = n};
    uint8_t want[CID_BIN_MAX];
    int wlen = cid_parse(cid, want), rc = -1;
    const char *hash = NULL;
    json_t *last = NULL, *pins;
    char msg[400], *path = NULL;
    long code;

    if (wlen < 0)
        return sd_err_set(err, SD_EUSAGE, "%s is not a CID", cid);
    code = rpc(api, "add?" ADD_QUERY, name, &r, err);
    if (code < 0)
        goto out;
    if (code != 200) {
        node_message(&r, msg, sizeof msg);
        sd_err_set(err, SD_EENV, "the IPFS node refused the add (HTTP %ld): %s", code, msg);
        goto out;
    }
    /* One JSON object a line; the file's is the last with a Hash. */
    for (char *line = r.body, *nl; line != NULL && *line; line = nl ? nl + 1 : NULL) {
        json_t *j;
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        if ((j = json_loads(line, 0, NULL)) != NULL && json_object_get(j, "Hash") != NULL) {
            json_decref(last);
            last = j;
        } else {
            json_decref(j);
        }
    }
    hash = json_string_value(json_object_get(last, "Hash"));
    if (same_cid(hash, want, wlen, "named the bundle", cid, err) != 0)
        goto out;
    if (!size_is(json_object_get(last, "Size"), tsize)) {
        sd_err_set(err, SD_EFAIL,
                   "the IPFS node gave %s a size other than its %llu bytes of blocks: not "
                   "trusted",
                   cid, (unsigned long long)tsize);
        goto out;
    }
    free(r.body);
    r = (struct resp){.fd = -1};
    if (asprintf(&path, "pin/add?arg=%s", cid) < 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto out;
    }
    if ((code = rpc(api, path, NULL, &r, err)) < 0)
        goto out;
    if (code != 200) {
        node_message(&r, msg, sizeof msg);
        sd_err_set(err, SD_EENV, "the IPFS node added %s but refused to pin it (HTTP %ld): %s", cid,
                   code, msg);
        goto out;
    }
    json_decref(last);
    last = json_loads(r.body ? r.body : "", 0, NULL);
    pins = json_object_get(last, "Pins");
    if (json_array_size(pins) != 1) {
        sd_err_set(err, SD_EFAIL, "the IPFS node's pin answer lists %zu CIDs, not %s",
                   json_array_size(pins), cid);
        goto out;
    }
    if (same_cid(json_string_value(json_array_get(pins, 0)), want, wlen, "pinned", cid, err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(last);
    free(r.body);
    free(path);
    return rc;
}

int ipfs_cat_verified(const char *api, const char *cid, long timeout_s, struct sd_err *err)
{
    struct resp r = {.fd = -1};
    uint8_t want[CID_BIN_MAX], got[CID_BIN_MAX];
    char canon[CID_STR_MAX], have[CID_STR_MAX], msg[400], *path = NULL, tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    int wlen = cid_parse(cid, want);
    size_t glen = 0;
    long code;

    if (wlen < 0 || cid_format(want, (size_t)wlen, canon) != 0)
        return sd_err_set(err, SD_EUSAGE,
                          "%.120s is not a CID (expected CIDv1 in base32 \"b...\" or base58 "
                          "\"z...\", or CIDv0 \"Qm...\")",
                          cid);
    if (snprintf(tmpl, sizeof tmpl, "%s/swarmdeck-ipfs-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
        (int)sizeof tmpl)
        return sd_err_set(err, SD_EENV, "TMPDIR is too long");
    if ((r.fd = mkostemp(tmpl, O_CLOEXEC)) < 0)
        return sd_err_set(err, SD_EENV, "cannot create a temporary file in %s: %s",
                          tmp && *tmp ? tmp : "/tmp", strerror(errno));
    unlink(tmpl); /* 0600 from mkostemp; gone when closed */
    if ((r.h = cid_new(0)) == NULL ||
        asprintf(&path, "cat?arg=%s&timeout=%lds", canon, timeout_s) < 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    code = rpc(api, path, NULL, &r, err);
    if (code < 0)
        goto fail;
    if (r.too_big) {
        sd_err_set(err, SD_EENV, "%s is larger than %llu bytes: not fetched", cid,
                   (unsigned long long)IPFS_MAX_FETCH);
        goto fail;
    }
    if (r.io_error) {
        sd_err_set(err, SD_EENV, "cannot write the fetched bundle to a temporary file: %s",
                   strerror(r.io_error));
        goto fail;
    }
    if (code != 200) {
        node_message(&r, msg, sizeof msg);
        sd_err_set(err, SD_EENV, "the IPFS node cannot give %s (HTTP %ld): %s", cid, code, msg);
        goto fail;
    }
    if (cid_final(r.h, have, got, &glen, NULL) != 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if ((int)glen != wlen || memcmp(got, want, glen) != 0) {
        sd_err_set(err, SD_EFAIL,
                   "the IPFS node answered %llu bytes whose CID is %s, not %s: refused",
                   (unsigned long long)r.got, have, cid);
        goto fail;
    }
    if (lseek(r.fd, 0, SEEK_SET) != 0) {
        sd_err_set(err, SD_EENV, "cannot read back the fetched bundle: %s", strerror(errno));
        goto fail;
    }
    cid_free(r.h);
    free(r.body);
    free(path);
    return r.fd;
fail:
    close(r.fd);
    cid_free(r.h);
    free(r.body);
    free(path);
    return -1;
}
