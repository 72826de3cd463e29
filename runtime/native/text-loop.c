/*
 * The fused text stage's JSON token loop (runtime/stages/spark/fused-text.ts, `jsonSpaceHash`)
 * in C, as a Node-API addon: a whitespace tokenizer over a JSON string's raw bytes that
 * lower-cases, hashes each token with Spark's MurmurHash3, drops stop words by that hash and
 * counts the token's HashingTF index, in one pass and without allocating.
 *
 * It computes what the TypeScript loop computes, bit for bit, and leaves the same cases to
 * TypeScript: a token holding an escape other than whitespace, or a non-ASCII byte, is not
 * hashed here but handed back (its byte range, `deferred`) for the per-token rules there
 * (Java's lower-casing, UTF-8); a `\u` escape, a raw control character or the end of the
 * bytes before the closing quote gives the record up (-1), as there. test/unit/text-loop.test.ts
 * checks both loops against each other and against the general stages.
 *
 * One context per fused stage (`create`) holds its settings, its stop words by hash, and the
 * stage's own count arrays (TermCounts' dense mode: a count per index and a two-level bitmap
 * of the indices seen), which this code updates in place exactly as `TermCounts.add` does.
 * Their memory belongs to ArrayBuffers the stage keeps for its lifetime, and a non-resizable
 * ArrayBuffer's memory never moves, so the pointers are taken once.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEED 42u
#define UNKNOWN (-1)

/* Per byte of a JSON string's content, as fused-text.ts's JSON tables: the character (lower-cased
 * in the lower table) or one of these. */
#define SPACE (-1)
#define QUOTE (-2)
#define ESCAPE (-3)
#define GIVE_UP (-4)
#define WIDE (-5)

static int8_t json_same[256], json_lower[256], json_escapes[256];

static void init_tables(void) {
  for (int b = 0; b < 256; b++) {
    int8_t c;
    if (b == 32) c = SPACE;
    else if (b == 34) c = QUOTE;
    else if (b == 92) c = ESCAPE;
    else if (b >= 128) c = WIDE;
    else if (b < 32) c = GIVE_UP;
    else c = (int8_t)b;
    json_same[b] = c;
    json_lower[b] = (c >= 65 && c <= 90) ? (int8_t)(c + 32) : c;
    /* \n \t \r \f separate tokens; \" \\ \/ \b are characters; \u and the rest give up. */
    json_escapes[b] = (b == 110 || b == 116 || b == 114 || b == 102) ? SPACE
                      : b == 34 ? 34 : b == 92 ? 92 : b == 47 ? 47 : b == 98 ? 8 : GIVE_UP;
  }
}

typedef struct {
  /* Settings. */
  int lower, runs, legacy, min_length;
  int32_t size, mask, empty_index;
  /* Stop words by hash (word-set.ts AsciiWordHashes): open addressing, word number + 1 per slot. */
  int32_t *stop_hashes, *stop_ids;
  uint32_t stop_mask;
  int has_stop;
  int32_t *word_start; /* word k's bytes are words[word_start[k] .. word_start[k + 1]) */
  uint8_t *words;
  /* Per slot, a word of up to 7 bytes as one key (short_key); NO_KEY for a longer word or an empty slot. */
  uint64_t *stop_keys;
  /* TermCounts' dense arrays. */
  int32_t *dense, *bits, *summary;
  size_t summary_length;
  /* Out: [0] adds since the call began, [1] deferred tokens; deferred holds their [start, end) pairs. */
  int32_t *status, *deferred;
  int32_t deferred_capacity; /* pairs */
  /* `take`: IDF weights (none when idf_length is 0), binary counts, and where the row's vector goes. */
  int binary;
  double *idf;
  size_t idf_length;
  int32_t *out_indices;
  double *out_values;
  size_t out_capacity;
  napi_ref keep; /* the array of JS objects whose memory this context points into */
} Context;

static inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t mix_k1(uint32_t k) { return rotl(k * 0xcc9e2d51u, 15) * 0x1b873593u; }
static inline uint32_t mix_h1(uint32_t h, uint32_t k) { return rotl(h ^ k, 13) * 5u + 0xe6546b64u; }
static inline uint32_t fmix(uint32_t h, uint32_t length) {
  h ^= length;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Spark 1.x/2.x mixes each tail byte as a block of its own; 3.x mixes the tail as one partial block. */
static inline uint32_t token_hash(uint32_t h1, uint32_t block, int shift, uint32_t length, int legacy) {
  if (legacy) for (int s = 0; s < shift; s += 8) h1 = mix_h1(h1, mix_k1((block >> s) & 0xff));
  else h1 ^= mix_k1(block);
  return fmix(h1, length);
}

/* TermCounts' dense arrays, held in locals for the loop (restrict: none of them overlaps another or the context). */
typedef struct {
  int32_t *restrict dense;
  int32_t *restrict bits;
  int32_t *restrict summary;
  int32_t adds;
} Counts;

static inline void add_times(Counts *k, int32_t index, int32_t times) {
  k->dense[index] += times;
  int32_t w = (int32_t)((uint32_t)index >> 5);
  k->bits[w] |= (int32_t)(1u << (index & 31));
  k->summary[(uint32_t)w >> 5] |= (int32_t)(1u << (w & 31));
  k->adds += times;
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "text-loop.c reads murmur3's blocks as little-endian words"
#endif

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

static inline uint32_t load32(const uint8_t *p) {
  uint32_t x;
  memcpy(&x, p, 4);
  return x;
}

/*
 * The bytes of 8 that cannot be inside a plain token: below '!' (controls and the space), '"',
 * '\\' and bytes beyond ASCII, each marked by its top bit. Only the lowest mark is sure (a
 * borrow can mark a byte above a marked one), and the lowest is all that is read.
 */
static inline uint64_t stops(uint64_t x) {
  uint64_t low = (x - 0x21 * ONES) & ~x;
  uint64_t quote = x ^ (0x22 * ONES);
  uint64_t backslash = x ^ (0x5c * ONES);
  return (low | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | x) & HIGHS;
}

/*
 * ASCII capitals of 8 bytes lower-cased, as Java lower-cases them (+ 32). Exact for every byte
 * below the first one from 0x80 up: a carry only moves to higher bytes, which callers mask off.
 */
static inline uint64_t lower8(uint64_t x) {
  uint64_t from_a = x + 0x3f * ONES;   /* top bit set from 'A' (0x41) up */
  uint64_t past_z = x + 0x25 * ONES;   /* top bit set from '[' (0x5b) up */
  return x | (((from_a & ~past_z) & HIGHS) >> 2);
}

/* A token or stop word of 1 to 7 bytes as one number: its bytes, and its length in the top byte. */
#define NO_KEY 0
static inline uint64_t short_key(uint64_t bytes, int64_t length) { return bytes | ((uint64_t)length << 56); }

/* ASCII capitals of 4 ASCII bytes lower-cased, as Java lower-cases them (+ 32). */
static inline uint32_t lower4(uint32_t x) {
  uint32_t from_a = x + 0x3f3f3f3fu;   /* top bit set from 'A' (0x41) up */
  uint32_t past_z = x + 0x25252525u;   /* top bit set from '[' (0x5b) up */
  return x | (((from_a & ~past_z) & 0x80808080u) >> 2);
}

/* Whether a token of 1 to 7 bytes (its short_key, lower-cased as the table would) is a stop word of hash h. */
static inline int is_short_stop(const Context *c, int32_t h, uint64_t key) {
  for (uint32_t slot = (uint32_t)h & c->stop_mask;; slot = (slot + 1) & c->stop_mask) {
    if (c->stop_ids[slot] == 0) return 0;
    if (c->stop_hashes[slot] == h && c->stop_keys[slot] == key) return 1;
  }
}

/* Whether bytes [start, end), read through the table, spell a stop word of hash h. */
static int is_stop(const Context *c, int32_t h, const uint8_t *bytes, int64_t start, int64_t end, const int8_t *table) {
  int32_t length = (int32_t)(end - start);
  for (uint32_t slot = (uint32_t)h & c->stop_mask;; slot = (slot + 1) & c->stop_mask) {
    int32_t id = c->stop_ids[slot];
    if (id == 0) return 0;
    if (c->stop_hashes[slot] != h) continue;
    const uint8_t *word = c->words + c->word_start[id - 1];
    if (c->word_start[id] - c->word_start[id - 1] != length) continue;
    int32_t k = 0;
    while (k < length && table[bytes[start + k]] == (int8_t)word[k]) k++;
    if (k == length) return 1;
  }
}

/* jsonSpaceHash: from `at` (past the opening quote) to the closing quote; the index past it, or -1. */
static int64_t json_space_hash(const Context *c, Counts *counts, int32_t *deferred_out, const uint8_t *bytes, int64_t n, int64_t at);

/* json_space_hash with its counts reported in `status` whatever it returns: the caller clears by them. */
static int64_t read_string(Context *c, const uint8_t *bytes, int64_t n, int64_t at) {
  Counts counts = {c->dense, c->bits, c->summary, 0};
  int32_t deferred = 0;
  int64_t end = json_space_hash(c, &counts, &deferred, bytes, n, at);
  c->status[0] = counts.adds;
  c->status[1] = deferred;
  return end;
}

static int64_t json_space_hash(const Context *c, Counts *counts, int32_t *deferred_out, const uint8_t *bytes, int64_t n, int64_t at) {
  const int8_t *table = c->lower ? json_lower : json_same;
  const int32_t min_length = c->min_length, empty_index = c->empty_index, mask = c->mask, size = c->size;
  const int legacy = c->legacy, runs = c->runs, lower = c->lower, has_stop = c->has_stop;
  int32_t *const out = c->deferred;
  const int32_t capacity = c->deferred_capacity;
  int32_t held_empty = 0;
  int64_t chars = 0, i = at;
  int32_t deferred = 0;
  for (;;) {
    int64_t start = i;
    uint32_t h1 = SEED, block = 0;
    int shift = 0;
    int64_t length;
    uint64_t key = NO_KEY;
    int decode = 0;
    int32_t ch = GIVE_UP;
    /*
     * The common token first: plain bytes found 8 at a time, ended by a space, a whitespace
     * escape or the closing quote, then hashed 4 at a time (lower-cased 4 at a time). Any other
     * end — a non-ASCII byte, another escape, a control, the bytes' end within 8 — and the token
     * is read again below, a byte at a time, as fused-text.ts reads it.
     */
    int plain = 0;
    while (i + 8 <= n) {
      uint64_t m = stops(load64(bytes + i));
      if (m) {
        i += __builtin_ctzll(m) >> 3;
        uint8_t b = bytes[i];
        if (b == 32) ch = SPACE, plain = 1;
        else if (b == 34) ch = QUOTE, plain = 1;
        else if (b == 92 && i + 1 < n && json_escapes[bytes[i + 1]] == SPACE) ch = SPACE, plain = 1;
        break;
      }
      i += 8;
    }
    if (plain) {
      length = i - start;
      if (length < 8) {
        /* The commonest token: its bytes are the 8 at `start` (read above) up to its length. */
        uint64_t x = load64(bytes + start);
        if (lower) x = lower8(x);
        x &= (1ull << (length << 3)) - 1;
        uint64_t rest = x;
        if (length >= 4) {
          h1 = mix_h1(h1, mix_k1((uint32_t)x));
          rest = x >> 32;
        }
        shift = (int)(length & 3) << 3;
        block = (uint32_t)rest;
        key = short_key(x, length);
        goto token_end;
      }
      const uint8_t *p = bytes + start;
      int64_t k = 0;
      /* Every 4-byte load ends before bytes[i], which is inside the 8 just read. */
      if (lower)
        for (; k + 4 <= length; k += 4) h1 = mix_h1(h1, mix_k1(lower4(load32(p + k))));
      else
        for (; k + 4 <= length; k += 4) h1 = mix_h1(h1, mix_k1(load32(p + k)));
      shift = (int)(length - k) << 3;
      if (shift) {
        uint32_t last = lower ? lower4(load32(p + k)) : load32(p + k);
        block = last & ((1u << shift) - 1);
      }
      goto token_end;
    }
    i = start;
    while (i + 4 <= n) {
      int32_t c0 = table[bytes[i]], c1 = table[bytes[i + 1]], c2 = table[bytes[i + 2]], c3 = table[bytes[i + 3]];
      if ((c0 | c1 | c2 | c3) >= 0) {
        h1 = mix_h1(h1, mix_k1((uint32_t)c0 | ((uint32_t)c1 << 8) | ((uint32_t)c2 << 16) | ((uint32_t)c3 << 24)));
        i += 4;
        continue;
      }
      int k = __builtin_ctz((uint32_t)((c0 < 0) | (c1 < 0) << 1 | (c2 < 0) << 2 | (c3 < 0) << 3));
      shift = k << 3;
      block = ((uint32_t)(c0 & 0xff) | ((uint32_t)(c1 & 0xff) << 8) | ((uint32_t)(c2 & 0xff) << 16)) & ((1u << shift) - 1);
      i += k;
      break;
    }
    length = i - start;
    for (;;) {
      ch = i < n ? table[bytes[i]] : GIVE_UP;
      if (ch < 0) {
        if (ch == WIDE) {
          decode = 1;
          length++;
          i++;
          continue;
        }
        if (ch != ESCAPE) break;
        ch = i + 1 < n ? json_escapes[bytes[i + 1]] : GIVE_UP;
        if (ch == GIVE_UP || ch == SPACE) break;
        decode = 1;
        length++;
        i += 2;
        continue;
      }
      length++;
      block |= (uint32_t)ch << shift;
      shift += 8;
      if (shift == 32) {
        h1 = mix_h1(h1, mix_k1(block));
        block = 0;
        shift = 0;
      }
      i++;
    }
    if (ch == GIVE_UP) return -1;
  token_end:
    chars += length;
    if (length == 0) held_empty++;
    else {
      if (held_empty > 0) {
        if (empty_index != UNKNOWN) add_times(counts, empty_index, held_empty);
        held_empty = 0;
      }
      if (decode) {
        /* Left to TypeScript's per-token rules; too many such tokens leave the record to it whole. */
        if (deferred == capacity) return -2;
        out[2 * deferred] = (int32_t)start;
        out[2 * deferred + 1] = (int32_t)i;
        *deferred_out = ++deferred;
      } else if (length >= min_length) {
        int32_t h = (int32_t)token_hash(h1, block, shift, (uint32_t)length, legacy);
        if (!(has_stop && (key != NO_KEY ? is_short_stop(c, h, key) : is_stop(c, h, bytes, start, i, table)))) add_times(counts, mask >= 0 ? (h & mask) : ((h % size) + size) % size, 1);
      }
    }
    if (ch == QUOTE) break;
    chars++;
    i += bytes[i] == 92 ? 2 : 1;
    for (;;) {
      if (i < n && bytes[i] == 32) i++;
      else if (i + 1 < n && bytes[i] == 92 && json_escapes[bytes[i + 1]] == SPACE) i += 2;
      else break;
      chars++;
      if (!runs) held_empty++;
    }
  }
  if (chars == 0 && empty_index != UNKNOWN) add_times(counts, empty_index, 1);
  return i + 1;
}

/*
 * TermCounts.take for the stage's finish, with IDF: the counted indices in ascending order from
 * the two-level bitmap, each with its count (1 when binary) times its IDF weight, into
 * out_indices / out_values; the counts, bits and summary are cleared as they are read. The
 * caller makes sure the row's adds fit out_capacity (the distinct indices are at most the adds).
 */
static int32_t take_row(Context *c) {
  int32_t *restrict dense = c->dense, *restrict bits = c->bits, *restrict summary = c->summary;
  int32_t *restrict indices = c->out_indices;
  double *restrict values = c->out_values;
  const double *idf = c->idf_length ? c->idf : NULL;
  int32_t m = 0;
  for (size_t s = 0; s < c->summary_length; s++) {
    uint32_t words = (uint32_t)summary[s];
    if (!words) continue;
    summary[s] = 0;
    while (words) {
      size_t w = (s << 5) + (size_t)__builtin_ctz(words);
      words &= words - 1;
      uint32_t set = (uint32_t)bits[w];
      bits[w] = 0;
      while (set) {
        int32_t index = (int32_t)((w << 5) + (size_t)__builtin_ctz(set));
        set &= set - 1;
        double count = c->binary ? 1.0 : (double)dense[index];
        dense[index] = 0;
        indices[m] = index;
        values[m++] = idf ? count * idf[index] : count;
      }
    }
  }
  return m;
}

/* ---- Node-API glue ---- */

#define CHECK(call)                                            \
  do {                                                         \
    if ((call) != napi_ok) {                                   \
      napi_throw_error(env, NULL, "text-loop: " #call " failed"); \
      return NULL;                                             \
    }                                                          \
  } while (0)

/* A typed array's elements; NULL when it is not one of type `want`. An empty one gives a
 * pointer to a static byte (never read), so NULL always means the wrong argument. */
static void *typed_data(napi_env env, napi_value v, size_t *length, napi_typedarray_type want) {
  static uint64_t none[1];
  napi_typedarray_type type;
  void *data = NULL;
  *length = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &data, NULL, NULL) != napi_ok || type != want) return NULL;
  return *length == 0 ? (void *)none : data;
}

static void finalize_context(napi_env env, void *data, void *hint) {
  (void)hint;
  Context *c = data;
  napi_delete_reference(env, c->keep);
  free(c->stop_keys);
  free(c);
}

/*
 * create(settings: Int32Array [lower, runs, legacy, minLength, size, mask, emptyIndex, binary],
 *        stopHashes: Int32Array, stopIds: Int32Array, wordStart: Int32Array, words: Uint8Array,
 *        dense: Int32Array, bits: Int32Array, summary: Int32Array, status: Int32Array(2),
 *        deferred: Int32Array, idf: Float64Array, outIndices: Int32Array, outValues: Float64Array)
 * → an external context. Empty stop arrays mean no stop words; an empty idf, no IDF.
 */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, NULL, "text-loop: create takes 13 arguments");
    return NULL;
  }
  size_t len[13];
  int32_t *settings = typed_data(env, argv[0], &len[0], napi_int32_array);
  Context *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "text-loop: out of memory");
    return NULL;
  }
  c->stop_hashes = typed_data(env, argv[1], &len[1], napi_int32_array);
  c->stop_ids = typed_data(env, argv[2], &len[2], napi_int32_array);
  c->word_start = typed_data(env, argv[3], &len[3], napi_int32_array);
  c->words = typed_data(env, argv[4], &len[4], napi_uint8_array);
  c->dense = typed_data(env, argv[5], &len[5], napi_int32_array);
  c->bits = typed_data(env, argv[6], &len[6], napi_int32_array);
  c->summary = typed_data(env, argv[7], &len[7], napi_int32_array);
  c->status = typed_data(env, argv[8], &len[8], napi_int32_array);
  c->deferred = typed_data(env, argv[9], &len[9], napi_int32_array);
  c->idf = typed_data(env, argv[10], &len[10], napi_float64_array);
  c->out_indices = typed_data(env, argv[11], &len[11], napi_int32_array);
  c->out_values = typed_data(env, argv[12], &len[12], napi_float64_array);
  if (!settings || len[0] != 8 || !c->idf || !c->out_indices || !c->out_values || !c->stop_hashes || !c->stop_ids || !c->word_start || !c->words || !c->dense || !c->bits || !c->summary || !c->status || len[8] < 2 ||
      !c->deferred) {
    free(c);
    napi_throw_type_error(env, NULL, "text-loop: create's arguments are not the typed arrays it takes");
    return NULL;
  }
  c->lower = settings[0];
  c->runs = settings[1];
  c->legacy = settings[2];
  c->min_length = settings[3];
  c->size = settings[4];
  c->mask = settings[5];
  c->empty_index = settings[6];
  c->binary = settings[7];
  c->summary_length = len[7];
  c->idf_length = len[10];
  c->out_capacity = len[11] < len[12] ? len[11] : len[12];
  c->has_stop = len[1] > 0;
  c->stop_mask = (uint32_t)len[1] - 1;
  c->deferred_capacity = (int32_t)(len[9] / 2);
  /* Indices must stay inside the count arrays: the size is what they were made for. */
  if (c->size <= 0 || len[5] < (size_t)c->size || len[6] < ((size_t)c->size + 31) / 32 || len[7] < (len[6] + 31) / 32 || (c->has_stop && (len[1] & (len[1] - 1))) ||
      len[2] != len[1] || c->empty_index >= c->size || (c->idf_length && c->idf_length < (size_t)c->size)) {
    free(c);
    napi_throw_range_error(env, NULL, "text-loop: create's arrays do not fit its settings");
    return NULL;
  }
  /* Each slot's word as a short key, where it has 1 to 7 bytes. */
  c->stop_keys = calloc(len[1] ? len[1] : 1, sizeof *c->stop_keys);
  if (!c->stop_keys) {
    free(c);
    napi_throw_error(env, NULL, "text-loop: out of memory");
    return NULL;
  }
  for (size_t slot = 0; slot < len[1]; slot++) {
    int32_t id = c->stop_ids[slot];
    if (id == 0) continue;
    int32_t from = id > 0 && (size_t)id < len[3] ? c->word_start[id - 1] : -1, to = from >= 0 ? c->word_start[id] : -1;
    if (from < 0 || to < from || (size_t)to > len[4]) {
      free(c->stop_keys);
      free(c);
      napi_throw_range_error(env, NULL, "text-loop: a stop word's number or bytes are out of range");
      return NULL;
    }
    if (to - from < 1 || to - from > 7) continue;
    uint64_t word = 0;
    for (int32_t k = from; k < to; k++) word |= (uint64_t)c->words[k] << ((k - from) << 3);
    c->stop_keys[slot] = short_key(word, to - from);
  }
  napi_value keep;
  CHECK(napi_create_array_with_length(env, 13, &keep));
  for (uint32_t k = 1; k < 13; k++) CHECK(napi_set_element(env, keep, k, argv[k]));
  CHECK(napi_create_reference(env, keep, 1, &c->keep));
  napi_value external;
  CHECK(napi_create_external(env, c, finalize_context, NULL, &external));
  return external;
}

/* A call's `want` arguments, the first a context from create: the context, or NULL with an exception pending. */
static Context *context_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  Context *c = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || !c) {
    napi_throw_type_error(env, NULL, "text-loop: a call takes a context from create first, then its other arguments");
    return NULL;
  }
  return c;
}

/* read(context, bytes: Uint8Array, at) → index past the closing quote, -1 (give up) or -2 (too many deferred tokens). */
static napi_value read(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Context *c = context_call(env, info, 3, argv);
  if (!c) return NULL;
  size_t n;
  int64_t at;
  const uint8_t *bytes = typed_data(env, argv[1], &n, napi_uint8_array);
  CHECK(napi_get_value_int64(env, argv[2], &at));
  if (!bytes) {
    napi_throw_type_error(env, NULL, "text-loop: read takes a Uint8Array");
    return NULL;
  }
  int64_t end = at < 0 || (size_t)at > n ? -1 : read_string(c, bytes, (int64_t)n, at);
  napi_value result;
  CHECK(napi_create_int64(env, end, &result));
  return result;
}

/* take(context, adds) → how many entries the row's vector has in outIndices / outValues; -1 (nothing read or cleared) when `adds` is beyond their room. */
static napi_value take(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Context *c = context_call(env, info, 2, argv);
  if (!c) return NULL;
  int64_t adds;
  CHECK(napi_get_value_int64(env, argv[1], &adds));
  int32_t m = adds < 0 || (uint64_t)adds > c->out_capacity ? -1 : take_row(c);
  napi_value result;
  CHECK(napi_create_int32(env, m, &result));
  return result;
}

NAPI_MODULE_INIT() {
  init_tables();
  napi_value fn;
  if (napi_create_function(env, "create", NAPI_AUTO_LENGTH, create, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "create", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "read", NAPI_AUTO_LENGTH, read, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "read", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "take", NAPI_AUTO_LENGTH, take, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "take", fn) != napi_ok) return NULL;
  return exports;
}
