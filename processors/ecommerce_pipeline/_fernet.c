/*
 * Batch Fernet over Arrow string arrays: the project composes the token, OpenSSL does the cryptography.
 *
 * A Fernet token (https://github.com/fernet/spec) is
 *     base64url(0x80 | timestamp, 8 bytes big-endian | IV, 16 bytes | AES-128-CBC(PKCS#7(message)) | HMAC-SHA256)
 * under a 32-byte key whose first half signs and second half encrypts. Here AES-128-CBC with its padding is
 * an EVP_CIPHER_CTX (one per key, only the IV reset per token), HMAC-SHA256 an EVP_MAC context (one per key,
 * re-initialised per token without re-keying), the MAC is compared with CRYPTO_memcmp before anything is
 * decrypted, and IVs come from getrandom(2), one call per IV_BATCH tokens. Only base64url, which is not
 * cryptography, is written here; decoding is strict (alphabet, padding, canonical trailing bits).
 *
 * Values arrive as the buffers of an Arrow string, large_string, binary or large_binary array (validity
 * bitmap, 32- or 64-bit offsets, data, with the array's offset) and leave as new buffers of the same kind.
 * The loops run without the GIL. ecommerce_pipeline.fernet_tokens is the only caller.
 */

#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000 /* Python 3.11's stable ABI: one .abi3.so for 3.11, 3.12, 3.13 and on */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "the compiled Fernet needs OpenSSL 3's libcrypto (Debian: libssl-dev, bookworm or later)"
#endif

#define VERSION 0x80
#define BLOCK 16
#define KEY_BYTES 32
#define HALF_KEY 16
#define HEADER_BYTES 25 /* version, timestamp, IV */
#define MAC_BYTES 32
#define OVERHEAD (HEADER_BYTES + MAC_BYTES)
#define SMALLEST_TOKEN (OVERHEAD + BLOCK)
#define MAX_CLOCK_SKEW 60 /* seconds a token may be ahead of the clock when a ttl is checked, as cryptography */
#define IV_BATCH 4096     /* IVs drawn per getrandom call */
#define LARGEST_VALUE (INT_MAX - 2 * BLOCK) /* EVP takes an int length */

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static uint8_t DECODE[256]; /* symbol value, 0xFF for a byte outside the alphabet */

typedef struct {
    PyObject *invalid_token;
} ModuleState;

/* An Arrow array of variable-length values, as buffers. */
typedef struct {
    Py_ssize_t length, offset;
    int wide; /* 64-bit offsets */
    Py_buffer validity, offsets, data; /* validity.buf and data.buf are NULL when None was passed */
} Values;

/* What went wrong in a loop run without the GIL; turned into a Python exception once it is held again. */
typedef struct {
    const char *step;    /* an OpenSSL call, or NULL */
    unsigned long ssl;   /* its error code */
    int os_error;        /* errno of getrandom, or 0 */
    Py_ssize_t row;      /* a token that does not open, or -1 */
    const char *reason;  /* why it does not open */
} Failure;

static const uint8_t NO_BYTES[1] = {0};

static int64_t offset_at(const Values *values, Py_ssize_t index)
{
    const char *at = (const char *)values->offsets.buf + (values->offset + index) * (values->wide ? 8 : 4);
    if (values->wide) {
        int64_t offset;
        memcpy(&offset, at, sizeof offset);
        return offset;
    }
    int32_t offset;
    memcpy(&offset, at, sizeof offset);
    return offset;
}

static int is_valid(const Values *values, Py_ssize_t index)
{
    if (values->validity.buf == NULL)
        return 1;
    Py_ssize_t bit = values->offset + index;
    return (((const uint8_t *)values->validity.buf)[bit >> 3] >> (bit & 7)) & 1;
}

static const uint8_t *value_at(const Values *values, Py_ssize_t index, Py_ssize_t *size)
{
    int64_t start = offset_at(values, index);
    *size = (Py_ssize_t)(offset_at(values, index + 1) - start);
    return values->data.buf == NULL ? NO_BYTES : (const uint8_t *)values->data.buf + start;
}

/* The buffers hold what the lengths and offsets claim, so no loop below reads outside them. */
static int check_values(const Values *values)
{
    if (values->length < 0 || values->offset < 0 || values->length > PY_SSIZE_T_MAX / 8 - values->offset - 1) {
        PyErr_SetString(PyExc_ValueError, "length and offset must be non-negative");
        return -1;
    }
    Py_ssize_t end = values->offset + values->length;
    if (values->validity.buf != NULL && values->validity.len < (end + 7) / 8) {
        PyErr_SetString(PyExc_ValueError, "the validity bitmap is shorter than the array");
        return -1;
    }
    if (values->offsets.len < (end + 1) * (values->wide ? 8 : 4)) {
        PyErr_SetString(PyExc_ValueError, "the offsets buffer is shorter than the array");
        return -1;
    }
    int64_t previous = offset_at(values, 0);
    if (previous < 0) {
        PyErr_SetString(PyExc_ValueError, "negative offset");
        return -1;
    }
    for (Py_ssize_t index = 1; index <= values->length; index++) {
        int64_t next = offset_at(values, index);
        if (next < previous) {
            PyErr_SetString(PyExc_ValueError, "offsets decrease");
            return -1;
        }
        previous = next;
    }
    if (previous > (int64_t)values->data.len) {
        PyErr_SetString(PyExc_ValueError, "the offsets point past the data buffer");
        return -1;
    }
    return 0;
}

static void store_offset(uint8_t *offsets, int wide, Py_ssize_t index, uint64_t value)
{
    if (wide) {
        int64_t offset = (int64_t)value;
        memcpy(offsets + index * 8, &offset, sizeof offset);
    } else {
        int32_t offset = (int32_t)value;
        memcpy(offsets + index * 4, &offset, sizeof offset);
    }
}

static void set_valid(uint8_t *validity, Py_ssize_t index)
{
    if (validity != NULL)
        validity[index >> 3] |= (uint8_t)(1u << (index & 7));
}

static size_t token_bytes(Py_ssize_t size)
{
    return OVERHEAD + ((size_t)size / BLOCK + 1) * BLOCK;
}

static size_t encoded_size(size_t bytes)
{
    return (bytes + 2) / 3 * 4;
}

static size_t encode(const uint8_t *in, size_t size, uint8_t *out)
{
    uint8_t *start = out;
    size_t at = 0;
    for (; at + 3 <= size; at += 3) {
        uint32_t group = (uint32_t)in[at] << 16 | (uint32_t)in[at + 1] << 8 | in[at + 2];
        *out++ = (uint8_t)ALPHABET[group >> 18];
        *out++ = (uint8_t)ALPHABET[(group >> 12) & 63];
        *out++ = (uint8_t)ALPHABET[(group >> 6) & 63];
        *out++ = (uint8_t)ALPHABET[group & 63];
    }
    if (size - at == 1) {
        uint32_t group = (uint32_t)in[at] << 16;
        *out++ = (uint8_t)ALPHABET[group >> 18];
        *out++ = (uint8_t)ALPHABET[(group >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (size - at == 2) {
        uint32_t group = (uint32_t)in[at] << 16 | (uint32_t)in[at + 1] << 8;
        *out++ = (uint8_t)ALPHABET[group >> 18];
        *out++ = (uint8_t)ALPHABET[(group >> 12) & 63];
        *out++ = (uint8_t)ALPHABET[(group >> 6) & 63];
        *out++ = '=';
    }
    return (size_t)(out - start);
}

/* Bytes written to out (at most size / 4 * 3), or -1 unless `in` is padded, canonical base64url. */
static Py_ssize_t decode(const uint8_t *in, Py_ssize_t size, uint8_t *out)
{
    if (size == 0 || size % 4 != 0)
        return -1;
    int padding = in[size - 1] != '=' ? 0 : in[size - 2] != '=' ? 1 : 2;
    uint8_t *start = out;
    for (Py_ssize_t at = 0; at < size; at += 4) {
        uint32_t a = DECODE[in[at]], b = DECODE[in[at + 1]];
        int last = at + 4 == size;
        if (last && padding == 2) {
            if ((a | b) > 63 || (b & 15) != 0)
                return -1;
            *out++ = (uint8_t)(a << 2 | b >> 4);
            break;
        }
        uint32_t c = DECODE[in[at + 2]];
        if (last && padding == 1) {
            if ((a | b | c) > 63 || (c & 3) != 0)
                return -1;
            uint32_t group = a << 18 | b << 12 | c << 6;
            *out++ = (uint8_t)(group >> 16);
            *out++ = (uint8_t)(group >> 8);
            break;
        }
        uint32_t d = DECODE[in[at + 3]];
        if ((a | b | c | d) > 63)
            return -1;
        uint32_t group = a << 18 | b << 12 | c << 6 | d;
        *out++ = (uint8_t)(group >> 16);
        *out++ = (uint8_t)(group >> 8);
        *out++ = (uint8_t)group;
    }
    return (Py_ssize_t)(out - start);
}

static int fill_random(uint8_t *buffer, size_t size, Failure *failure)
{
    size_t got = 0;
    while (got < size) {
        ssize_t read = getrandom(buffer + got, size - got, 0);
        if (read < 0) {
            if (errno == EINTR)
                continue;
            failure->os_error = errno;
            return -1;
        }
        got += (size_t)read;
    }
    return 0;
}

static int ssl_failed(Failure *failure, const char *step)
{
    failure->step = step;
    failure->ssl = ERR_peek_last_error();
    return -1;
}

/* One cipher and one HMAC context for a key. */
typedef struct {
    EVP_CIPHER_CTX *cipher;
    EVP_MAC_CTX *mac;
} KeyContext;

static int open_key(KeyContext *context, EVP_MAC *hmac, const uint8_t *key, int encrypting, Failure *failure)
{
    char digest[] = "SHA256";
    OSSL_PARAM parameters[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    context->cipher = EVP_CIPHER_CTX_new();
    context->mac = EVP_MAC_CTX_new(hmac);
    if (context->cipher == NULL || context->mac == NULL)
        return ssl_failed(failure, "allocating a context");
    if (!EVP_CipherInit_ex(context->cipher, EVP_aes_128_cbc(), NULL, key + HALF_KEY, NULL, encrypting))
        return ssl_failed(failure, "EVP_CipherInit_ex");
    if (!EVP_MAC_init(context->mac, key, HALF_KEY, parameters))
        return ssl_failed(failure, "EVP_MAC_init");
    return 0;
}

static void close_key(KeyContext *context)
{
    EVP_CIPHER_CTX_free(context->cipher);
    EVP_MAC_CTX_free(context->mac);
}

/* HMAC-SHA256 of `size` bytes with the context's key, into mac. */
static int sign(EVP_MAC_CTX *context, const uint8_t *bytes, size_t size, uint8_t *mac, Failure *failure)
{
    size_t written;
    if (!EVP_MAC_init(context, NULL, 0, NULL) || !EVP_MAC_update(context, bytes, size)
        || !EVP_MAC_final(context, mac, &written, MAC_BYTES) || written != MAC_BYTES)
        return ssl_failed(failure, "HMAC-SHA256");
    return 0;
}

typedef struct {
    const Values *values;
    const uint8_t *key;
    uint64_t timestamp;
    const uint8_t *ivs; /* 16 bytes per non-null value, or NULL: from getrandom */
    Py_ssize_t count;   /* non-null values */
    uint8_t *iv_pool, *scratch;
    uint8_t *validity, *offsets, *data;
    int wide;
} Encryption;

static int encrypt_all(void *work, Failure *failure)
{
    const Encryption *job = work;
    KeyContext context = {NULL, NULL};
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    int status = -1;
    if (hmac == NULL) {
        ssl_failed(failure, "EVP_MAC_fetch(HMAC)");
        goto done;
    }
    if (open_key(&context, hmac, job->key, 1, failure) < 0)
        goto done;

    uint8_t *token = job->scratch, *iv = token + 9;
    token[0] = VERSION;
    for (int byte = 0; byte < 8; byte++)
        token[1 + byte] = (uint8_t)(job->timestamp >> (56 - 8 * byte));
    const uint8_t *next_iv = job->ivs;
    Py_ssize_t pooled = 0, used = 0, done_values = 0;
    uint64_t position = 0;
    const Values *values = job->values;
    store_offset(job->offsets, job->wide, 0, 0);
    for (Py_ssize_t index = 0; index < values->length; index++) {
        if (!is_valid(values, index)) {
            store_offset(job->offsets, job->wide, index + 1, position);
            continue;
        }
        set_valid(job->validity, index);
        if (next_iv != NULL) {
            memcpy(iv, next_iv, BLOCK);
            next_iv += BLOCK;
        } else {
            if (used == pooled) {
                pooled = job->count - done_values < IV_BATCH ? job->count - done_values : IV_BATCH;
                used = 0;
                if (fill_random(job->iv_pool, (size_t)pooled * BLOCK, failure) < 0)
                    goto done;
            }
            memcpy(iv, job->iv_pool + used * BLOCK, BLOCK);
            used++;
        }
        done_values++;

        Py_ssize_t size;
        const uint8_t *plain = value_at(values, index, &size);
        int body, tail;
        if (!EVP_EncryptInit_ex(context.cipher, NULL, NULL, NULL, iv)
            || !EVP_EncryptUpdate(context.cipher, token + HEADER_BYTES, &body, plain, (int)size)
            || !EVP_EncryptFinal_ex(context.cipher, token + HEADER_BYTES + body, &tail)) {
            ssl_failed(failure, "AES-128-CBC encryption");
            goto done;
        }
        size_t signed_bytes = HEADER_BYTES + (size_t)body + (size_t)tail;
        if (sign(context.mac, token, signed_bytes, token + signed_bytes, failure) < 0)
            goto done;
        position += encode(token, signed_bytes + MAC_BYTES, job->data + position);
        store_offset(job->offsets, job->wide, index + 1, position);
    }
    status = 0;
done:
    close_key(&context);
    EVP_MAC_free(hmac);
    return status;
}

typedef struct {
    const Values *values;
    const uint8_t *keys;
    Py_ssize_t key_count;
    int64_t ttl; /* negative: no ttl */
    int64_t now;
    KeyContext *contexts;
    uint8_t *scratch;
    uint8_t *validity, *offsets, *data;
    uint64_t written;
} Decryption;

static const char *too_old_or_new(const uint8_t *token, int64_t ttl, int64_t now)
{
    if (ttl < 0)
        return NULL;
    uint64_t stamp = 0;
    for (int byte = 0; byte < 8; byte++)
        stamp = stamp << 8 | token[1 + byte];
    uint64_t clock = (uint64_t)now;
    if (clock > stamp && clock - stamp > (uint64_t)ttl)
        return "expired";
    if (stamp > clock && stamp - clock > MAX_CLOCK_SKEW)
        return "future";
    return NULL;
}

/* 1 and the plaintext's size if one of the keys opens the token, 0 if none, -1 on an OpenSSL failure. */
static int open_token(Decryption *job, const uint8_t *token, Py_ssize_t size, uint8_t *out, size_t *plain_size,
                      const char **reason, Failure *failure)
{
    size_t signed_bytes = (size_t)size - MAC_BYTES;
    uint8_t mac[MAC_BYTES];
    *reason = "mac";
    for (Py_ssize_t key = 0; key < job->key_count; key++) {
        KeyContext *context = &job->contexts[key];
        if (sign(context->mac, token, signed_bytes, mac, failure) < 0)
            return -1;
        if (CRYPTO_memcmp(mac, token + signed_bytes, MAC_BYTES) != 0)
            continue;
        int body, tail;
        if (!EVP_DecryptInit_ex(context->cipher, NULL, NULL, NULL, token + 9)
            || !EVP_DecryptUpdate(context->cipher, out, &body, token + HEADER_BYTES, (int)(signed_bytes - HEADER_BYTES)))
            return ssl_failed(failure, "AES-128-CBC decryption");
        if (EVP_DecryptFinal_ex(context->cipher, out + body, &tail)) {
            *plain_size = (size_t)body + (size_t)tail;
            return 1;
        }
        ERR_clear_error(); /* a bad padding under a matching MAC: try the next key, as MultiFernet does */
        *reason = "padding";
    }
    return 0;
}

static int decrypt_all(void *work, Failure *failure)
{
    Decryption *job = work;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    int status = -1;
    if (hmac == NULL) {
        ssl_failed(failure, "EVP_MAC_fetch(HMAC)");
        goto done;
    }
    for (Py_ssize_t key = 0; key < job->key_count; key++)
        if (open_key(&job->contexts[key], hmac, job->keys + key * KEY_BYTES, 0, failure) < 0)
            goto done;

    const Values *values = job->values;
    uint64_t position = 0;
    store_offset(job->offsets, values->wide, 0, 0);
    for (Py_ssize_t index = 0; index < values->length; index++) {
        if (!is_valid(values, index)) {
            store_offset(job->offsets, values->wide, index + 1, position);
            continue;
        }
        set_valid(job->validity, index);
        Py_ssize_t text_size;
        const uint8_t *text = value_at(values, index, &text_size);
        uint8_t *token = job->scratch;
        Py_ssize_t size = decode(text, text_size, token);
        const char *reason;
        if (size < SMALLEST_TOKEN || (size - OVERHEAD) % BLOCK != 0 || token[0] != VERSION)
            reason = "malformed";
        else
            reason = too_old_or_new(token, job->ttl, job->now);
        if (reason == NULL) {
            size_t plain_size;
            int opened = open_token(job, token, size, job->data + position, &plain_size, &reason, failure);
            if (opened < 0)
                goto done;
            if (opened) {
                position += plain_size;
                reason = NULL;
            }
        }
        if (reason != NULL) {
            failure->row = index;
            failure->reason = reason;
            goto done;
        }
        store_offset(job->offsets, values->wide, index + 1, position);
    }
    job->written = position;
    status = 0;
done:
    for (Py_ssize_t key = 0; key < job->key_count; key++)
        close_key(&job->contexts[key]);
    EVP_MAC_free(hmac);
    return status;
}

/* The Python exception for a failure of a loop; NULL. */
static PyObject *raise_failure(PyObject *module, const Failure *failure)
{
    if (failure->row >= 0) {
        ModuleState *state = PyModule_GetState(module);
        PyObject *arguments = Py_BuildValue("(ns)", failure->row, failure->reason);
        if (arguments != NULL) {
            PyErr_SetObject(state->invalid_token, arguments);
            Py_DECREF(arguments);
        }
    } else if (failure->os_error != 0) {
        errno = failure->os_error;
        PyErr_SetFromErrno(PyExc_OSError);
    } else {
        char message[256];
        ERR_error_string_n(failure->ssl, message, sizeof message);
        PyErr_Format(PyExc_RuntimeError, "OpenSSL: %s failed: %s", failure->step, message);
    }
    ERR_clear_error();
    return NULL;
}

static int parse_width(int width, Values *values)
{
    if (width != 4 && width != 8) {
        PyErr_SetString(PyExc_ValueError, "offset_width is 4 (string, binary) or 8 (large_string, large_binary)");
        return -1;
    }
    values->wide = width == 8;
    return 0;
}

static void release(Values *values)
{
    PyBuffer_Release(&values->validity);
    PyBuffer_Release(&values->offsets);
    PyBuffer_Release(&values->data);
}

/* A new bytes object of `size` bytes to fill, and its storage. */
static PyObject *new_bytes(Py_ssize_t size, uint8_t **storage)
{
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
    if (bytes != NULL)
        *storage = (uint8_t *)PyBytes_AsString(bytes);
    return bytes;
}

/* The output validity bitmap, all null until the loop marks values valid; None when every input value is valid. */
static PyObject *new_validity(const Values *values, uint8_t **storage)
{
    if (values->validity.buf == NULL)
        return Py_NewRef(Py_None);
    PyObject *bitmap = new_bytes((values->length + 7) / 8, storage);
    if (bitmap != NULL)
        memset(*storage, 0, (size_t)(values->length + 7) / 8);
    return bitmap;
}

/* Runs a loop without the GIL; -1 with the exception set if it failed. */
static int run_without_gil(int (*loop)(void *, Failure *), void *job, PyObject *module)
{
    Failure failure = {.row = -1};
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = loop(job, &failure);
    Py_END_ALLOW_THREADS
    if (status < 0)
        raise_failure(module, &failure);
    return status;
}

PyDoc_STRVAR(encrypt_doc,
"encrypt(key, timestamp, length, offset, validity, offsets, offset_width, data, ivs=None)\n"
"--\n\n"
"Fernet tokens of an Arrow array's values under one 32-byte key, as\n"
"(validity or None, offsets, data, offset_width) of a string (4) or large_string (8) array.\n"
"ivs: 16 bytes per non-null value (reproducing known tokens); by default from getrandom(2).");

static PyObject *fernet_encrypt(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"key", "timestamp", "length", "offset", "validity", "offsets", "offset_width",
                            "data", "ivs", NULL};
    Py_buffer key = {0}, ivs = {0};
    Values values = {0};
    unsigned long long timestamp;
    int width;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*Knnz*y*iz*|z*:encrypt", names, &key, &timestamp,
                                     &values.length, &values.offset, &values.validity, &values.offsets, &width,
                                     &values.data, &ivs))
        return NULL;

    PyObject *result = NULL, *validity = NULL, *offsets = NULL, *data = NULL;
    Encryption job = {.values = &values, .key = key.buf, .timestamp = timestamp, .ivs = ivs.buf};
    if (key.len != KEY_BYTES) {
        PyErr_SetString(PyExc_ValueError, "a Fernet key is 32 bytes");
        goto done;
    }
    if (parse_width(width, &values) < 0 || check_values(&values) < 0)
        goto done;

    uint64_t total = 0;
    size_t largest = token_bytes(0); /* the header is written once, even when every value is null */
    for (Py_ssize_t index = 0; index < values.length; index++) {
        if (!is_valid(&values, index))
            continue;
        Py_ssize_t size;
        value_at(&values, index, &size);
        if (size > LARGEST_VALUE) {
            PyErr_Format(PyExc_ValueError, "value %zd is over 2 GiB: too large for one Fernet token", index);
            goto done;
        }
        size_t bytes = token_bytes(size);
        largest = bytes > largest ? bytes : largest;
        total += encoded_size(bytes);
        job.count++;
    }
    if (total > (uint64_t)PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_OverflowError, "the tokens would not fit in memory");
        goto done;
    }
    if (ivs.buf != NULL && ivs.len != job.count * BLOCK) {
        PyErr_Format(PyExc_ValueError, "need %zd IV bytes (16 per non-null value), got %zd", job.count * BLOCK,
                     ivs.len);
        goto done;
    }
    job.wide = total > INT32_MAX;
    offsets = new_bytes((values.length + 1) * (job.wide ? 8 : 4), &job.offsets);
    data = new_bytes((Py_ssize_t)total, &job.data);
    validity = new_validity(&values, &job.validity);
    job.scratch = PyMem_Malloc(largest);
    job.iv_pool = ivs.buf == NULL ? PyMem_Malloc(IV_BATCH * BLOCK) : NULL;
    if (offsets == NULL || data == NULL || validity == NULL || job.scratch == NULL
        || (ivs.buf == NULL && job.iv_pool == NULL)) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    if (run_without_gil(encrypt_all, &job, module) < 0)
        goto done;
    result = Py_BuildValue("(OOOi)", validity, offsets, data, job.wide ? 8 : 4);
done:
    PyMem_Free(job.scratch);
    PyMem_Free(job.iv_pool);
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    PyBuffer_Release(&key);
    PyBuffer_Release(&ivs);
    release(&values);
    return result;
}

PyDoc_STRVAR(decrypt_doc,
"decrypt(keys, ttl, now, length, offset, validity, offsets, offset_width, data)\n"
"--\n\n"
"The plaintexts of an Arrow array of Fernet tokens, as (validity or None, offsets, data) with the input's\n"
"offset width. keys: 32 bytes per key, any of which may open a token (each token's MAC is checked, in\n"
"constant time, before it is decrypted). ttl: seconds, or negative for none; now: the time it is checked at.\n"
"Raises InvalidToken(row, reason) for the first token that does not open; reason is 'malformed', 'mac',\n"
"'padding', 'expired' or 'future'.");

static PyObject *fernet_decrypt(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"keys", "ttl", "now", "length", "offset", "validity", "offsets", "offset_width", "data",
                            NULL};
    Py_buffer keys = {0};
    Values values = {0};
    long long ttl, now;
    int width;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*LLnnz*y*iz*:decrypt", names, &keys, &ttl, &now,
                                     &values.length, &values.offset, &values.validity, &values.offsets, &width,
                                     &values.data))
        return NULL;

    PyObject *result = NULL, *validity = NULL, *offsets = NULL, *data = NULL;
    Decryption job = {.values = &values, .keys = keys.buf, .ttl = ttl, .now = now};
    if (keys.len == 0 || keys.len % KEY_BYTES != 0) {
        PyErr_SetString(PyExc_ValueError, "keys are 32 bytes each, at least one");
        goto done;
    }
    if (now < 0) {
        PyErr_SetString(PyExc_ValueError, "now must not be negative");
        goto done;
    }
    if (parse_width(width, &values) < 0 || check_values(&values) < 0)
        goto done;
    job.key_count = keys.len / KEY_BYTES;

    uint64_t capacity = BLOCK; /* EVP may write up to a block past the plaintext */
    Py_ssize_t largest = 0;
    for (Py_ssize_t index = 0; index < values.length; index++) {
        if (!is_valid(&values, index))
            continue;
        Py_ssize_t size;
        value_at(&values, index, &size);
        Py_ssize_t bytes = size / 4 * 3;
        if (bytes - OVERHEAD > LARGEST_VALUE) {
            PyErr_Format(PyExc_ValueError, "token %zd is over 2 GiB: too large to open", index);
            goto done;
        }
        largest = bytes > largest ? bytes : largest;
        capacity += bytes > OVERHEAD ? (uint64_t)(bytes - OVERHEAD) : 0;
    }
    offsets = new_bytes((values.length + 1) * (values.wide ? 8 : 4), &job.offsets);
    data = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)capacity);
    validity = new_validity(&values, &job.validity);
    job.scratch = PyMem_Malloc(largest > 0 ? (size_t)largest : 1);
    job.contexts = PyMem_Calloc((size_t)job.key_count, sizeof(KeyContext));
    if (offsets == NULL || data == NULL || validity == NULL || job.scratch == NULL || job.contexts == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    job.data = (uint8_t *)PyByteArray_AsString(data);
    if (run_without_gil(decrypt_all, &job, module) < 0 || PyByteArray_Resize(data, (Py_ssize_t)job.written) < 0)
        goto done;
    result = Py_BuildValue("(OOO)", validity, offsets, data);
done:
    PyMem_Free(job.scratch);
    PyMem_Free(job.contexts);
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    PyBuffer_Release(&keys);
    release(&values);
    return result;
}

static PyMethodDef methods[] = {
    {"encrypt", (PyCFunction)(void (*)(void))fernet_encrypt, METH_VARARGS | METH_KEYWORDS, encrypt_doc},
    {"decrypt", (PyCFunction)(void (*)(void))fernet_decrypt, METH_VARARGS | METH_KEYWORDS, decrypt_doc},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module)
{
    memset(DECODE, 0xFF, sizeof DECODE);
    for (int symbol = 0; symbol < 64; symbol++)
        DECODE[(uint8_t)ALPHABET[symbol]] = (uint8_t)symbol;
    ModuleState *state = PyModule_GetState(module);
    state->invalid_token = PyErr_NewExceptionWithDoc(
        "ecommerce_pipeline._fernet.InvalidToken",
        "A token that does not open; args are (row, reason).", PyExc_ValueError, NULL);
    if (state->invalid_token == NULL || PyModule_AddObjectRef(module, "InvalidToken", state->invalid_token) < 0)
        return -1;
    return PyModule_AddStringConstant(module, "OPENSSL_VERSION", OpenSSL_version(OPENSSL_VERSION));
}

static int traverse_module(PyObject *module, visitproc visit, void *arg)
{
    ModuleState *state = PyModule_GetState(module);
    Py_VISIT(state->invalid_token);
    return 0;
}

static int clear_module(PyObject *module)
{
    ModuleState *state = PyModule_GetState(module);
    Py_CLEAR(state->invalid_token);
    return 0;
}

static void free_module(void *module)
{
    clear_module((PyObject *)module);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ecommerce_pipeline._fernet",
    .m_doc = "Batch Fernet encryption and decryption over Arrow buffers (OpenSSL's libcrypto); "
             "called only by ecommerce_pipeline.fernet_tokens.",
    .m_size = sizeof(ModuleState),
    .m_methods = methods,
    .m_slots = slots,
    .m_traverse = traverse_module,
    .m_clear = clear_module,
    .m_free = free_module,
};

PyMODINIT_FUNC PyInit__fernet(void)
{
    return PyModuleDef_Init(&definition);
}
