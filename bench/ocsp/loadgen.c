/* The one HTTP load client used for BOTH OCSP responders (ours and `openssl ocsp -index`), so neither gets a
 * friendlier client. Written in C so the client's own CPU cost stays small on a 2-core machine.
 *
 * usage: loadgen HOST PORT SECONDS MAX_REQUESTS CONCURRENCY KEEPALIVE(0|1) REQFILE...
 * Each REQFILE is a complete HTTP request (headers + DER body) sent as is; threads cycle through them.
 * KEEPALIVE=0: a new TCP connection per request (the request says Connection: close; read to EOF).
 * KEEPALIVE=1: the request asks to keep the connection; it is reused unless the response says it closes.
 * Counts what completes within SECONDS. Prints: requests ok, errors, seconds, requests/s, p50/p99 latency in ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAXREQ 4096
#define LAT_CAP 2000000

static char *reqs[MAXREQ];
static size_t reqlen[MAXREQ];
static int nreq;
static struct sockaddr_in addr;
static double deadline;
static long max_requests;
static int keepalive;
static atomic_long issued, ok, errors;
static float *lat;
static atomic_long nlat;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int connect_one(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {10, 0}; /* a stuck responder counts as an error, never hangs the run */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { close(fd); return -1; }
  return fd;
}

/* Reads one response; returns 0 if it is "HTTP/1.x 200" with a body. *closes is set when the server ends the
 * connection after it (Connection: close, or HTTP/1.0 without keep-alive), as an HTTP/1.1 client must honour. */
static int read_response(int fd, char *buf, size_t cap, int *closes) {
  size_t got = 0;
  long need = -1;
  for (;;) {
    ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n < 0) return -1;
    if (n == 0) break;
    got += n;
    buf[got] = 0;
    char *hend = strstr(buf, "\r\n\r\n");
    if (hend && need < 0) {
      char *cl = strcasestr(buf, "content-length:");
      if (cl && cl < hend) need = (hend + 4 - buf) + atol(cl + 15);
    }
    if (need >= 0 && (long)got >= need) break;
    if (got >= cap - 1) return -1;
  }
  if (got < 12 || strncmp(buf + 9, "200", 3) != 0) return -1;
  char *hend = strstr(buf, "\r\n\r\n");
  if (hend) *hend = 0;
  *closes = strcasestr(buf, "connection: close") != NULL ||
            (strncmp(buf, "HTTP/1.0", 8) == 0 && strcasestr(buf, "connection: keep-alive") == NULL);
  return 0;
}

static void *worker(void *arg) {
  long id = (long)arg;
  char *buf = malloc(65536);
  int fd = -1;
  for (long i = id;; i++) {
    if (now() >= deadline) break;
    if (atomic_fetch_add(&issued, 1) >= max_requests) break;
    int r = (int)(i % nreq);
    double t0 = now();
    if (fd < 0) fd = connect_one();
    if (fd < 0) { atomic_fetch_add(&errors, 1); continue; }
    int closes = 1;
    int bad = write(fd, reqs[r], reqlen[r]) != (ssize_t)reqlen[r] || read_response(fd, buf, 65536, &closes) != 0;
    if (!keepalive || bad || closes) { close(fd); fd = -1; }
    if (bad) { atomic_fetch_add(&errors, 1); continue; }
    if (now() > deadline) break; /* finished after the window: not counted */
    atomic_fetch_add(&ok, 1);
    long k = atomic_fetch_add(&nlat, 1);
    if (k < LAT_CAP) lat[k] = (float)((now() - t0) * 1000.0);
  }
  if (fd >= 0) close(fd);
  free(buf);
  return NULL;
}

static int cmpf(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 8) { fprintf(stderr, "usage: loadgen HOST PORT SECONDS MAX CONC KEEPALIVE REQFILE...\n"); return 2; }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &addr.sin_addr);
  double seconds = atof(argv[3]);
  max_requests = atol(argv[4]);
  int conc = atoi(argv[5]);
  keepalive = atoi(argv[6]);
  for (int i = 7; i < argc && nreq < MAXREQ; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) { perror(argv[i]); return 2; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    reqs[nreq] = malloc(n);
    reqlen[nreq] = fread(reqs[nreq], 1, n, f);
    fclose(f);
    nreq++;
  }
  lat = malloc(sizeof(float) * LAT_CAP);
  pthread_t th[1024];
  double t0 = now();
  deadline = t0 + seconds;
  for (long i = 0; i < conc; i++) {
    pthread_create(&th[i], NULL, worker, (void *)i);
    pthread_detach(th[i]);
  }
  /* The figure is what completed inside the window. A thread still waiting on a responder that serves one
   * connection at a time is not waited for (it would stretch the window and undercount that responder). */
  while (now() < deadline) usleep(10000);
  usleep(50000); /* lets a thread that just finished in time record its latency */
  double el = seconds;
  (void)t0;
  long n = atomic_load(&nlat) < LAT_CAP ? atomic_load(&nlat) : LAT_CAP;
  qsort(lat, n, sizeof(float), cmpf);
  printf("{\"ok\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f}\n",
         atomic_load(&ok), atomic_load(&errors), el, atomic_load(&ok) / el, n ? lat[n / 2] : 0.0,
         n ? lat[(long)(n * 0.99)] : 0.0);
  return 0;
}
