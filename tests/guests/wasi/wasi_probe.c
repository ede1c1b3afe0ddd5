// A WASI preview1 conformance probe: run under our WasiPreview1 and under node:wasi, the two
// outputs must match (tests/wasi_diff_test.ts). Timing values are printed as `@<n>` and masked.
// usage: wasi_probe <exit code> [more args...]   (preopen: the fixture directory at /sandbox)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t ns(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);

  const char *vars[] = {"GREETING", "EMPTY", "UNICODE", "MISSING"};
  for (int i = 0; i < 4; i++) {
    const char *v = getenv(vars[i]);
    printf("env %s=%s\n", vars[i], v ? v : "(unset)");
  }

  // Read a file from the preopened directory.
  FILE *f = fopen("/sandbox/hello.txt", "r");
  if (!f) {
    printf("fopen hello.txt failed: errno %d\n", errno);
  } else {
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    printf("hello.txt (%zu bytes): %s", n, buf);
    fseek(f, 6, SEEK_SET);
    n = fread(buf, 1, 5, f);
    buf[n] = 0;
    printf("at 6: %s, tell=%ld\n", buf, ftell(f));
    fclose(f);
  }

  struct stat st;
  if (stat("/sandbox/hello.txt", &st) == 0)
    printf("stat hello.txt: size=%lld reg=%d dir=%d\n", (long long)st.st_size,
           S_ISREG(st.st_mode), S_ISDIR(st.st_mode));
  if (stat("/sandbox/sub", &st) == 0)
    printf("stat sub: reg=%d dir=%d\n", S_ISREG(st.st_mode), S_ISDIR(st.st_mode));

  // List the directory (sorted: host order differs between implementations).
  DIR *d = opendir("/sandbox");
  if (!d) {
    printf("opendir failed: errno %d\n", errno);
  } else {
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 64) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char *s = malloc(strlen(e->d_name) + 8);
      sprintf(s, "%s %s", e->d_name,
              e->d_type == DT_DIR ? "dir" : e->d_type == DT_REG ? "file" : "other");
      names[count++] = s;
    }
    closedir(d);
    qsort(names, count, sizeof names[0], cmp);
    for (int i = 0; i < count; i++) printf("entry: %s\n", names[i]);
  }

  // Write a new file, read it back.
  int fd = open("/sandbox/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    printf("create out.txt failed: errno %d\n", errno);
  } else {
    write(fd, "written by guest\n", 17);
    close(fd);
    f = fopen("/sandbox/out.txt", "r");
    char buf[64] = {0};
    if (f) {
      fgets(buf, sizeof buf, f);
      fclose(f);
    }
    printf("out.txt: %s", buf);
  }

  // Errors that must agree.
  errno = 0;
  printf("open missing: %s\n", fopen("/sandbox/missing.txt", "r") ? "ok" : strerror(errno));
  printf("open escape: %s\n", fopen("/sandbox/../etc/passwd", "r") ? "opened!" : "refused");
  printf("open outside preopen: %s\n", fopen("/etc/passwd", "r") ? "opened!" : "refused");

  // Clocks and a 20 ms sleep.
  int64_t rt = ns(CLOCK_REALTIME), m0 = ns(CLOCK_MONOTONIC);
  printf("realtime plausible: %d\n", rt > 1600000000LL * 1000000000LL);
  struct timespec req = {0, 20 * 1000 * 1000};
  int r = nanosleep(&req, NULL);
  int64_t slept = ns(CLOCK_MONOTONIC) - m0;
  printf("nanosleep=%d slept>=20ms: %d elapsed_ns=@%lld\n", r, slept >= 20000000,
         (long long)slept);
  struct timespec res;
  printf("clock_getres monotonic: %d\n", clock_getres(CLOCK_MONOTONIC, &res));

  unsigned char rnd[16] = {0};
  printf("getentropy: %d\n", getentropy(rnd, sizeof rnd));

  printf("isatty(1)=%d\n", isatty(1));
  fprintf(stderr, "to stderr: %s\n", argc > 2 ? argv[2] : "-");
  fflush(stdout);

  int code = argc > 1 ? atoi(argv[1]) : 0;
  if (code == 0) return 0;  // _start returns normally
  exit(code);               // proc_exit
}
