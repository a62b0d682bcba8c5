/*
 * The peer we measure against: speexdsp's echo canceller (MDF) + preprocessor (residual echo suppression and
 * noise suppression) run on the same 16 kHz 16-bit mono WAV scenes as the workbench.
 *
 *   speexdsp-peer MIC.wav FAR.wav|- OUT.wav FRAME_SAMPLES FILTER_TAPS PREPROCESS(0|1) [NOISE_SUPPRESS_DB]
 *
 * FAR "-" runs the preprocessor alone (noise scenes). Prints one JSON line: frames processed and the time per
 * frame spent inside speexdsp (file I/O excluded). Built by test/bench/peer/speexdsp.ts with the system's cc.
 */
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int16_t *samples;
  long count;
} Wav;

/* Reads a canonical PCM WAV (16-bit mono); walks the chunks so extra chunks (LIST) are skipped. */
static int read_wav(const char *path, Wav *wav) {
  FILE *f = fopen(path, "rb");
  if (!f) return fprintf(stderr, "cannot open %s\n", path), -1;
  char riff[12];
  if (fread(riff, 1, 12, f) != 12 || memcmp(riff, "RIFF", 4) || memcmp(riff + 8, "WAVE", 4))
    return fprintf(stderr, "%s: not a RIFF/WAVE file\n", path), fclose(f), -1;
  int channels = 0, bits = 0;
  for (;;) {
    char id[4];
    uint32_t size;
    if (fread(id, 1, 4, f) != 4 || fread(&size, 4, 1, f) != 1) return fprintf(stderr, "%s: no data chunk\n", path), fclose(f), -1;
    if (!memcmp(id, "fmt ", 4)) {
      unsigned char fmt[64];
      if (size > sizeof fmt || fread(fmt, 1, size, f) != size) return fclose(f), -1;
      channels = fmt[2] | fmt[3] << 8;
      bits = fmt[14] | fmt[15] << 8;
    } else if (!memcmp(id, "data", 4)) {
      if (channels != 1 || bits != 16) return fprintf(stderr, "%s: need 16-bit mono\n", path), fclose(f), -1;
      wav->count = size / 2;
      wav->samples = malloc(size);
      if (fread(wav->samples, 2, wav->count, f) != (size_t)wav->count) return fclose(f), -1;
      fclose(f);
      return 0;
    } else {
      fseek(f, size + (size & 1), SEEK_CUR);
    }
  }
}

static void write_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void write_u16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }

static int write_wav(const char *path, const int16_t *samples, long count, int rate) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fwrite("RIFF", 1, 4, f), write_u32(f, 36 + count * 2), fwrite("WAVEfmt ", 1, 8, f);
  write_u32(f, 16), write_u16(f, 1), write_u16(f, 1), write_u32(f, rate), write_u32(f, rate * 2);
  write_u16(f, 2), write_u16(f, 16), fwrite("data", 1, 4, f), write_u32(f, count * 2);
  fwrite(samples, 2, count, f);
  return fclose(f);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 7) return fprintf(stderr, "usage: %s MIC FAR|- OUT FRAME TAPS PREPROCESS [NOISE_DB]\n", argv[0]), 2;
  const int rate = 16000, frame = atoi(argv[4]), taps = atoi(argv[5]), preprocess = atoi(argv[6]);
  int noise_db = argc > 7 ? atoi(argv[7]) : -15;
  Wav mic = {0}, far = {0};
  if (read_wav(argv[1], &mic)) return 1;
  int has_far = strcmp(argv[2], "-") != 0;
  if (has_far && read_wav(argv[2], &far)) return 1;
  long frames = mic.count / frame;
  if (has_far && far.count / frame < frames) frames = far.count / frame;
  int16_t *out = calloc(frames * frame, 2);

  SpeexEchoState *echo = has_far ? speex_echo_state_init(frame, taps) : NULL;
  if (echo) speex_echo_ctl(echo, SPEEX_ECHO_SET_SAMPLING_RATE, (void *)&rate);
  SpeexPreprocessState *pre = preprocess ? speex_preprocess_state_init(frame, rate) : NULL;
  if (pre) {
    int on = 1;
    speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &noise_db);
    if (echo) speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_ECHO_STATE, echo);
  }

  double elapsed = 0;
  for (long i = 0; i < frames; i++) {
    int16_t *o = out + i * frame;
    double t0 = now_us();
    if (echo) speex_echo_cancellation(echo, mic.samples + i * frame, far.samples + i * frame, o);
    else memcpy(o, mic.samples + i * frame, frame * 2);
    if (pre) speex_preprocess_run(pre, o);
    elapsed += now_us() - t0;
  }
  if (write_wav(argv[3], out, frames * frame, rate)) return fprintf(stderr, "cannot write %s\n", argv[3]), 1;
  printf("{\"frames\":%ld,\"usPerFrame\":%.3f}\n", frames, frames ? elapsed / frames : 0);
  return 0;
}
