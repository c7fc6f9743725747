/*
 * peers.c -- the "practical limit" peer of benchmarks/bench_peers.py: plain C loops.
 *
 * Compiled at run time with `gcc -O3 -march=native -fopenmp -shared -fPIC` and called
 * through ctypes.  Everything is float64.
 *
 * Random numbers
 *   Every stream is a xoshiro256** generator (Blackman & Vigna 2018) whose four words
 *   come from splitmix64 seeded by (seed, stream number).  Normals use a 256-layer
 *   ziggurat (Marsaglia & Tsang 2000, with the layer index, the sign and the 52-bit
 *   mantissa taken from one 64-bit word, as Doornik 2005 suggests).  The generator
 *   state is kept as structure-of-arrays over "lanes" (s0[L], s1[L], s2[L], s3[L]) so
 *   that the common path -- advance every lane once, pick a layer, scale, accept if
 *   inside the layer's rectangle (about 99 % of draws) -- is a loop the compiler
 *   vectorizes; the rare rejections (wedges and the tail) are finished afterwards by
 *   a scalar loop on the same lane's stream, so the draws are exact.
 *
 * Kernels
 *   run_blocks   W1 (Adam on a diagonal quadratic) and W3 (eight update rules on
 *                Rosenbrock): trajectories are advanced in blocks of `block` together,
 *                stored structure-of-arrays (x[d][B], m[d][B], ...), one random stream
 *                per trajectory; each step first draws the block's normals, then runs
 *                the gradient and update loops over the block, which vectorize across
 *                trajectories.  OpenMP spreads the blocks over the cores.
 *   run_coords   W2 (Adam on a d = 10^4 diagonal quadratic, few trajectories): one
 *                trajectory at a time per thread, vectorized across coordinates; the
 *                trajectory owns 256 random streams (lanes), lane j serving coordinates
 *                j, j + 256, j + 512, ...
 *   run_logreg   W4 (minibatch logistic regression with Adam, epochs without
 *                replacement): one trajectory per thread at a time, a Fisher-Yates
 *                reshuffle of the previous order at every epoch, inner loops over the
 *                d features.
 *   run_mlp      W5 (a one-hidden-layer tanh MLP with softmax cross-entropy, Adam,
 *                minibatches in epochs): one trajectory per thread at a time, its
 *                parameters, Adam moments and a minibatch's activations (a few tens of
 *                KiB) in the core's cache; Glorot normals from the ziggurat and the
 *                epochs' Fisher-Yates shuffles from the trajectory's own stream; the
 *                weights stored transposed, so that the forward and backward passes'
 *                inner loops run over contiguous hidden units (vectorized).
 *
 * Sums over coordinates are `omp simd` reductions (vectorized, so summed in a different
 * order than a serial loop); no -ffast-math.
 *
 * Update rules follow PyTorch's torch.optim forms (see rule_update below).  Nothing here
 * freezes diverged trajectories: they simply run on with inf/NaN.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- splitmix64, xoshiro256** */

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* 64-byte aligned memory (the size rounded up to a multiple of 64, as C11 requires). */
static void *amalloc(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Lanes [0, L) of a structure-of-arrays state; lane j is stream `first + j`. */
typedef struct {
    uint64_t *s0, *s1, *s2, *s3;
} lanes_t;

static void lanes_alloc(lanes_t *s, int L)
{
    uint64_t *p = (uint64_t *)amalloc(sizeof(uint64_t) * 4 * (size_t)((L + 7) / 8 * 8));
    size_t stride = (size_t)((L + 7) / 8 * 8);
    s->s0 = p;
    s->s1 = p + stride;
    s->s2 = p + 2 * stride;
    s->s3 = p + 3 * stride;
}

static void lanes_free(lanes_t *s) { free(s->s0); }

static void lanes_seed(lanes_t *s, int L, uint64_t seed, uint64_t first)
{
    for (int j = 0; j < L; j++) {
        uint64_t key = seed ^ (0xD1B54A32D192ED03ULL * (first + (uint64_t)j + 1));
        uint64_t sm = splitmix64(&key); /* decorrelate neighbouring stream numbers */
        s->s0[j] = splitmix64(&sm);
        s->s1[j] = splitmix64(&sm);
        s->s2[j] = splitmix64(&sm);
        s->s3[j] = splitmix64(&sm);
    }
}

/* One xoshiro256** step of lane j (scalar). */
static inline uint64_t lane_next(lanes_t *s, int j)
{
    uint64_t s0 = s->s0[j], s1 = s->s1[j], s2 = s->s2[j], s3 = s->s3[j];
    uint64_t r = rotl64(s1 * 5, 7) * 9;
    uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl64(s3, 45);
    s->s0[j] = s0;
    s->s1[j] = s1;
    s->s2[j] = s2;
    s->s3[j] = s3;
    return r;
}

/* A double in [0, 1) from the top 52 bits of a word (exponent trick, vectorizable). */
static inline double u01_from_bits(uint64_t u)
{
    uint64_t b = 0x3FF0000000000000ULL | (u >> 12);
    double d;
    memcpy(&d, &b, sizeof d);
    return d - 1.0;
}

static inline double lane_uniform(lanes_t *s, int j) { return u01_from_bits(lane_next(s, j)); }

/* ---------------------------------------------------------------- 256-layer ziggurat */

#define ZN 256
#define ZR 3.6541528853610088   /* start of the tail (Marsaglia & Tsang 2000, 256 layers) */
#define ZV 0.00492867323399     /* area of every layer */

static double zx[ZN + 1]; /* zx[i]: right edge of layer i; zx[0] = V / f(R) (the base strip) */
static double zf[ZN + 1]; /* zf[i] = f(zx[i]), f(x) = exp(-x^2 / 2) */
static int z_ready = 0;

static double zig_f(double x) { return exp(-0.5 * x * x); }

/* Build the tables: layer i (1 <= i < 256) is the rectangle [0, x_i] x [f(x_i), f(x_{i+1})]
 * of area V, so f(x_{i+1}) = V / x_i + f(x_i); layer 0 is the base strip [0, R] x [0, f(R)]
 * plus the tail beyond R, also of area V, drawn as the rectangle [0, V / f(R)] x [0, f(R)]. */
void zig_init(void)
{
    if (z_ready)
        return;
    zx[0] = ZV / zig_f(ZR);
    zx[1] = ZR;
    for (int i = 1; i < ZN - 1; i++)
        zx[i + 1] = sqrt(-2.0 * log(ZV / zx[i] + zig_f(zx[i])));
    zx[ZN] = 0.0;
    for (int i = 0; i <= ZN; i++)
        zf[i] = zig_f(zx[i]);
    zf[0] = 0.0; /* unused: layer 0 never reaches the wedge test */
    z_ready = 1;
}

/* Finish a draw that started from word u on lane j (the slow path; it re-tests the fast
 * path so that it can also be used for a full draw). */
static double zig_from(lanes_t *s, int j, uint64_t u)
{
    for (;;) {
        int i = (int)(u & 0xFF);
        double sign = (u & 0x100) ? -1.0 : 1.0;
        double z = u01_from_bits(u) * zx[i];
        if (z < zx[i + 1])
            return sign * z;
        if (i == 0) { /* the tail beyond R (Marsaglia 1964) */
            double a, b;
            do {
                a = -log(1.0 - lane_uniform(s, j)) / ZR;
                b = -log(1.0 - lane_uniform(s, j));
            } while (b + b < a * a);
            return sign * (ZR + a);
        }
        /* the wedge between f and the layer's inner rectangle */
        double y = zf[i] + lane_uniform(s, j) * (zf[i + 1] - zf[i]);
        if (y < zig_f(z))
            return sign * z;
        u = lane_next(s, j);
    }
}

/* One standard normal per lane for lanes [0, n): out[j].  `word` (n words) and `flag`
 * (n bytes) are scratch. */
static void normals(lanes_t *restrict s, int n, double *restrict out, uint64_t *restrict word,
                    uint8_t *restrict flag)
{
    uint64_t *restrict s0 = s->s0, *restrict s1 = s->s1, *restrict s2 = s->s2, *restrict s3 = s->s3;
    /* the fast path, vectorized across lanes (a 64-bit table index: gcc 12 does not
       vectorize this loop with an int one) */
    for (int j = 0; j < n; j++) {
        uint64_t a0 = s0[j], a1 = s1[j], a2 = s2[j], a3 = s3[j];
        uint64_t u = rotl64(a1 * 5, 7) * 9;
        uint64_t t = a1 << 17;
        a2 ^= a0;
        a3 ^= a1;
        a1 ^= a2;
        a0 ^= a3;
        a2 ^= t;
        a3 = rotl64(a3, 45);
        s0[j] = a0;
        s1[j] = a1;
        s2[j] = a2;
        s3[j] = a3;
        word[j] = u;
        uint64_t i = u & 0xFF;
        double z = u01_from_bits(u) * zx[i];
        flag[j] = !(z < zx[i + 1]);
        uint64_t zb;
        memcpy(&zb, &z, sizeof zb);
        zb ^= (u & 0x100) << 55; /* bit 8 of the word -> the sign bit */
        memcpy(&out[j], &zb, sizeof zb);
    }
    /* about 1.5 % of the lanes: wedge or tail, finished on the lane's own stream; the
       flags are scanned eight at a time */
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        uint64_t f8;
        memcpy(&f8, flag + j, sizeof f8);
        if (!f8)
            continue;
        for (int k = j; k < j + 8; k++)
            if (flag[k])
                out[k] = zig_from(s, k, word[k]);
    }
    for (; j < n; j++)
        if (flag[j])
            out[j] = zig_from(s, j, word[j]);
}

/* Test hooks: `count` normals from one stream, and from `count` lanes at once. */
void zig_sample_scalar(uint64_t seed, int64_t count, double *out)
{
    zig_init();
    lanes_t s;
    lanes_alloc(&s, 1);
    lanes_seed(&s, 1, seed, 0);
    for (int64_t k = 0; k < count; k++)
        out[k] = zig_from(&s, 0, lane_next(&s, 0));
    lanes_free(&s);
}

void zig_sample_lanes(uint64_t seed, int lanes, int rounds, double *out)
{
    zig_init();
    lanes_t s;
    lanes_alloc(&s, lanes);
    lanes_seed(&s, lanes, seed, 0);
    uint64_t *w = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)lanes);
    uint8_t *f = (uint8_t *)malloc((size_t)lanes);
    for (int r = 0; r < rounds; r++)
        normals(&s, lanes, out + (size_t)r * lanes, w, f);
    free(w);
    free(f);
    lanes_free(&s);
}

/* ---------------------------------------------------------------- update rules (PyTorch forms) */

enum { R_SGD = 0, R_MOMENTUM, R_NESTEROV, R_ADAGRAD, R_RMSPROP, R_ADAM, R_AMSGRAD, R_RADAM };

typedef struct {
    double momentum;       /* SGD momentum / Nesterov (0.9) */
    double beta1, beta2;   /* Adam family */
    double eps;            /* Adam family, RMSprop */
    double alpha;          /* RMSprop decay (0.99) */
    double eps_adagrad;    /* Adagrad (1e-10) */
} hyper_t;

/* One step t (1-based) of `rule` on n elements: x, gradient g, state s1, s2, s3, and the
 * learning rate of every element.  Loops are elementwise, so they vectorize.
 *   SGD        x -= lr g
 *   momentum   b = mu b + g (b_1 = g); x -= lr b
 *   Nesterov   b = mu b + g; x -= lr (g + mu b)
 *   Adagrad    s += g^2; x -= lr g / (sqrt(s) + eps)
 *   RMSprop    v = a v + (1 - a) g^2; x -= lr g / (sqrt(v) + eps)
 *   Adam       m, v EMAs; x -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AMSGrad    as Adam with vmax = max(vmax, v) in the denominator (torch: max of raw v)
 *   RAdam      rho_t > 5: x -= lr mhat r_t sqrt(1 - b2^t) / (sqrt(v) + eps); else x -= lr mhat */
static void rule_update(int rule, int n, double *restrict x, const double *restrict g,
                        double *restrict s1, double *restrict s2, double *restrict s3,
                        const double *restrict lr, int64_t t, const hyper_t *hp)
{
    const double mu = hp->momentum, b1 = hp->beta1, b2 = hp->beta2, eps = hp->eps;
    const double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    const double sbc2 = sqrt(bc2);
    switch (rule) {
    case R_SGD:
        for (int j = 0; j < n; j++)
            x[j] -= lr[j] * g[j];
        break;
    case R_MOMENTUM:
        for (int j = 0; j < n; j++) {
            double b = mu * s1[j] + g[j];
            s1[j] = b;
            x[j] -= lr[j] * b;
        }
        break;
    case R_NESTEROV:
        for (int j = 0; j < n; j++) {
            double b = mu * s1[j] + g[j];
            s1[j] = b;
            x[j] -= lr[j] * (g[j] + mu * b);
        }
        break;
    case R_ADAGRAD: {
        const double e = hp->eps_adagrad;
        for (int j = 0; j < n; j++) {
            double s = s1[j] + g[j] * g[j];
            s1[j] = s;
            x[j] -= lr[j] * g[j] / (sqrt(s) + e);
        }
        break;
    }
    case R_RMSPROP: {
        const double a = hp->alpha;
        for (int j = 0; j < n; j++) {
            double v = a * s1[j] + (1.0 - a) * g[j] * g[j];
            s1[j] = v;
            x[j] -= lr[j] * g[j] / (sqrt(v) + eps);
        }
        break;
    }
    case R_ADAM:
        for (int j = 0; j < n; j++) {
            double m = b1 * s1[j] + (1.0 - b1) * g[j];
            double v = b2 * s2[j] + (1.0 - b2) * g[j] * g[j];
            s1[j] = m;
            s2[j] = v;
            x[j] -= (lr[j] / bc1) * m / (sqrt(v) / sbc2 + eps);
        }
        break;
    case R_AMSGRAD:
        for (int j = 0; j < n; j++) {
            double m = b1 * s1[j] + (1.0 - b1) * g[j];
            double v = b2 * s2[j] + (1.0 - b2) * g[j] * g[j];
            double vm = v > s3[j] ? v : s3[j];
            s1[j] = m;
            s2[j] = v;
            s3[j] = vm;
            x[j] -= (lr[j] / bc1) * m / (sqrt(vm) / sbc2 + eps);
        }
        break;
    case R_RADAM: {
        const double rho_inf = 2.0 / (1.0 - b2) - 1.0;
        const double rho_t = rho_inf - 2.0 * (double)t * pow(b2, (double)t) / bc2;
        if (rho_t > 5.0) {
            const double rect = sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                     ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
            const double c = rect * sbc2 / bc1;
            for (int j = 0; j < n; j++) {
                double m = b1 * s1[j] + (1.0 - b1) * g[j];
                double v = b2 * s2[j] + (1.0 - b2) * g[j] * g[j];
                s1[j] = m;
                s2[j] = v;
                x[j] -= lr[j] * c * m / (sqrt(v) + eps);
            }
        } else {
            for (int j = 0; j < n; j++) {
                double m = b1 * s1[j] + (1.0 - b1) * g[j];
                double v = b2 * s2[j] + (1.0 - b2) * g[j] * g[j];
                s1[j] = m;
                s2[j] = v;
                x[j] -= lr[j] / bc1 * m;
            }
        }
        break;
    }
    default:
        break;
    }
}

static void fill_hyper(hyper_t *hp, const double *h)
{
    hp->momentum = h[0];
    hp->beta1 = h[1];
    hp->beta2 = h[2];
    hp->eps = h[3];
    hp->alpha = h[4];
    hp->eps_adagrad = h[5];
}

/* ---------------------------------------------------------------- W1 / W3: blocks of trajectories */

enum { P_QUADRATIC = 0, P_ROSENBROCK = 1 };

/* Loss of each trajectory of a block (structure-of-arrays x[i * B + b]). */
static void block_loss(int problem, int d, int nb, int B, const double *restrict x,
                       const double *restrict pdat, double *restrict out)
{
    if (problem == P_QUADRATIC) {
        for (int b = 0; b < nb; b++)
            out[b] = 0.0;
        for (int i = 0; i < d; i++) {
            const double hi = 0.5 * pdat[i];
            for (int b = 0; b < nb; b++)
                out[b] += hi * x[i * B + b] * x[i * B + b];
        }
    } else { /* Rosenbrock (a - x)^2 + c (y - x^2)^2 with pdat = (a, c) */
        const double a = pdat[0], c = pdat[1];
        for (int b = 0; b < nb; b++) {
            double u = x[b], w = x[B + b];
            double r = w - u * u;
            out[b] = (a - u) * (a - u) + c * r * r;
        }
    }
}

/*
 * Run n_groups x per_group trajectories; group k uses update rule rules[k]; trajectory
 * q = k * per_group + p has learning rate lr[q] and its own random stream q.  The problem
 * is the diagonal quadratic 0.5 sum h_i x_i^2 (pdat = h, d entries) or 2-D Rosenbrock
 * (pdat = (a, b)); the observed gradient is grad f + sigma * N(0, I).  Start x0 (d
 * entries).  The loss at steps rec_steps[0..n_rec) goes to loss[q * n_rec + r].
 */
int run_blocks(int problem, int n_groups, const int *rules, int per_group, const double *lr,
               int d, const double *pdat, const double *x0, double sigma, const double *hyper,
               int64_t steps, const int64_t *rec_steps, int n_rec, int block, uint64_t seed,
               double *loss)
{
    if (problem == P_ROSENBROCK && d != 2)
        return -1;
    zig_init();
    hyper_t hp;
    fill_hyper(&hp, hyper);
    const int B = block;
    const int blocks_per_group = (per_group + B - 1) / B;
    const int n_blocks = n_groups * blocks_per_group;

#pragma omp parallel
    {
        const size_t n = (size_t)d * B;
        double *x = amalloc(sizeof(double) * n);
        double *g = amalloc(sizeof(double) * n);
        double *z = amalloc(sizeof(double) * n);
        double *s1 = amalloc(sizeof(double) * n);
        double *s2 = amalloc(sizeof(double) * n);
        double *s3 = amalloc(sizeof(double) * n);
        double *lrv = amalloc(sizeof(double) * n);
        double *lb = amalloc(sizeof(double) * B);
        uint64_t *word = amalloc(sizeof(uint64_t) * B);
        uint8_t *flag = amalloc((size_t)B);
        lanes_t st;
        lanes_alloc(&st, B);

#pragma omp for schedule(dynamic, 1)
        for (int blk = 0; blk < n_blocks; blk++) {
            const int grp = blk / blocks_per_group;
            const int p0 = (blk % blocks_per_group) * B;
            const int nb = per_group - p0 < B ? per_group - p0 : B;
            const int q0 = grp * per_group + p0;
            const int rule = rules[grp];
            /* lanes beyond nb (a partial last block) run on harmlessly and are not stored */
            lanes_seed(&st, B, seed, (uint64_t)q0);
            for (int i = 0; i < d; i++)
                for (int b = 0; b < B; b++) {
                    x[i * B + b] = x0[i];
                    s1[i * B + b] = s2[i * B + b] = s3[i * B + b] = 0.0;
                    lrv[i * B + b] = lr[q0 + (b < nb ? b : 0)];
                }
            int r = 0;
            for (int64_t t = 0;; t++) {
                if (r < n_rec && rec_steps[r] == t) {
                    block_loss(problem, d, nb, B, x, pdat, lb);
                    for (int b = 0; b < nb; b++)
                        loss[(size_t)(q0 + b) * n_rec + r] = lb[b];
                    r++;
                }
                if (t >= steps)
                    break;
                for (int i = 0; i < d; i++)
                    normals(&st, B, z + (size_t)i * B, word, flag);
                if (problem == P_QUADRATIC) {
                    for (int i = 0; i < d; i++) {
                        const double hi = pdat[i];
                        for (int b = 0; b < B; b++)
                            g[i * B + b] = hi * x[i * B + b] + sigma * z[i * B + b];
                    }
                } else {
                    const double a = pdat[0], c = pdat[1];
                    for (int b = 0; b < B; b++) {
                        double u = x[b], w = x[B + b];
                        double res = w - u * u;
                        g[b] = -2.0 * (a - u) - 4.0 * c * u * res + sigma * z[b];
                        g[B + b] = 2.0 * c * res + sigma * z[B + b];
                    }
                }
                rule_update(rule, (int)n, x, g, s1, s2, s3, lrv, t + 1, &hp);
            }
        }
        lanes_free(&st);
        free(x); free(g); free(z); free(s1); free(s2); free(s3); free(lrv); free(lb); free(word); free(flag);
    }
    return 0;
}

/* ---------------------------------------------------------------- W2: across coordinates */

#define LANES 256

/*
 * n_traj trajectories of `rule` on the diagonal quadratic 0.5 sum h_i x_i^2 with the
 * observed gradient h_i x_i + sigma * scale_i * N(0, 1); trajectory q has learning rate
 * lr[q] and streams q * 256 + [0, 256).  The loss at rec_steps goes to loss[q * n_rec + r].
 */
int run_coords(int rule, int n_traj, const double *lr, int d, const double *h, const double *scale,
               const double *x0, double sigma, const double *hyper, int64_t steps,
               const int64_t *rec_steps, int n_rec, uint64_t seed, double *loss)
{
    zig_init();
    hyper_t hp;
    fill_hyper(&hp, hyper);
#pragma omp parallel
    {
        double *x = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s1 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s2 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s3 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *g = amalloc(sizeof(double) * LANES);
        double *z = amalloc(sizeof(double) * LANES);
        double *lrv = amalloc(sizeof(double) * LANES);
        uint64_t *word = amalloc(sizeof(uint64_t) * LANES);
        uint8_t *flag = amalloc(LANES);
        lanes_t st;
        lanes_alloc(&st, LANES);

#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < n_traj; q++) {
            lanes_seed(&st, LANES, seed, (uint64_t)q * LANES);
            for (int i = 0; i < d; i++) {
                x[i] = x0[i];
                s1[i] = s2[i] = s3[i] = 0.0;
            }
            for (int j = 0; j < LANES; j++)
                lrv[j] = lr[q];
            int r = 0;
            for (int64_t t = 0;; t++) {
                if (r < n_rec && rec_steps[r] == t) {
                    double f = 0.0;
#pragma omp simd reduction(+ : f)
                    for (int i = 0; i < d; i++)
                        f += h[i] * x[i] * x[i];
                    loss[(size_t)q * n_rec + r] = 0.5 * f;
                    r++;
                }
                if (t >= steps)
                    break;
                for (int c = 0; c < d; c += LANES) {
                    const int nc = d - c < LANES ? d - c : LANES;
                    normals(&st, nc, z, word, flag);
                    for (int j = 0; j < nc; j++)
                        g[j] = h[c + j] * x[c + j] + sigma * scale[c + j] * z[j];
                    rule_update(rule, nc, x + c, g, s1 + c, s2 + c, s3 + c, lrv, t + 1, &hp);
                }
            }
        }
        lanes_free(&st);
        free(x); free(s1); free(s2); free(s3); free(g); free(z); free(lrv); free(word); free(flag);
    }
    return 0;
}

/* ---------------------------------------------------------------- W4: minibatch logistic regression */

static inline double log1pexp(double z) { return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

static inline double sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double logreg_loss(const double *X, const double *y, int n, int d, const double *w)
{
    double f = 0.0;
    for (int i = 0; i < n; i++) {
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < d; j++)
            s += X[(size_t)i * d + j] * w[j];
        f += log1pexp(-y[i] * s);
    }
    return f / n;
}

/*
 * n_traj trajectories of `rule` on the mean logistic loss of (X [n x d], y in {-1, +1}),
 * from w = x0, with minibatches of `batch` examples: every epoch reshuffles the previous
 * order (Fisher-Yates) and serves consecutive batches, the last one shorter when batch
 * does not divide n (PyTorch's DataLoader(shuffle=True, drop_last=False)).  Trajectory q
 * has learning rate lr[q] and stream q.  The full training loss at the start and at the
 * end goes to loss[q * 2 + {0, 1}].
 */
int run_logreg(int rule, int n_traj, const double *lr, int n, int d, const double *X,
               const double *y, const double *x0, int batch, int epochs, const double *hyper,
               uint64_t seed, double *loss)
{
    hyper_t hp;
    fill_hyper(&hp, hyper);
#pragma omp parallel
    {
        double *w = amalloc(sizeof(double) * (size_t)(d + 8));
        double *g = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s1 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s2 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *s3 = amalloc(sizeof(double) * (size_t)(d + 8));
        double *lrv = amalloc(sizeof(double) * (size_t)(d + 8));
        int *perm = malloc(sizeof(int) * (size_t)n);
        lanes_t st;
        lanes_alloc(&st, 1);

#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < n_traj; q++) {
            lanes_seed(&st, 1, seed, (uint64_t)q);
            for (int j = 0; j < d; j++) {
                w[j] = x0[j];
                s1[j] = s2[j] = s3[j] = 0.0;
                lrv[j] = lr[q];
            }
            for (int i = 0; i < n; i++)
                perm[i] = i;
            loss[(size_t)q * 2] = logreg_loss(X, y, n, d, w);
            int64_t t = 0;
            for (int e = 0; e < epochs; e++) {
                for (int i = n - 1; i > 0; i--) {
                    int k = (int)(lane_uniform(&st, 0) * (i + 1));
                    int tmp = perm[i];
                    perm[i] = perm[k];
                    perm[k] = tmp;
                }
                for (int pos = 0; pos < n; pos += batch) {
                    const int nb = n - pos < batch ? n - pos : batch;
                    for (int j = 0; j < d; j++)
                        g[j] = 0.0;
                    for (int k = 0; k < nb; k++) {
                        const double *xi = X + (size_t)perm[pos + k] * d;
                        const double yi = y[perm[pos + k]];
                        double s = 0.0;
#pragma omp simd reduction(+ : s)
                        for (int j = 0; j < d; j++)
                            s += xi[j] * w[j];
                        const double c = -yi * sigmoid(-yi * s);
                        for (int j = 0; j < d; j++)
                            g[j] += c * xi[j];
                    }
                    const double inv = 1.0 / nb;
                    for (int j = 0; j < d; j++)
                        g[j] *= inv;
                    rule_update(rule, d, w, g, s1, s2, s3, lrv, ++t, &hp);
                }
            }
            loss[(size_t)q * 2 + 1] = logreg_loss(X, y, n, d, w);
        }
        lanes_free(&st);
        free(w); free(g); free(s1); free(s2); free(s3); free(lrv); free(perm);
    }
    return 0;
}

/* ---------------------------------------------------------------- W5: a one-hidden-layer MLP */

/*
 * optsim's portable tanh (optsim/_elementary.py), the same sequence of operations in C:
 * for |x| < 0.625 Cephes's x + x z P(z)/Q(z), z = x^2; above it 1 - 2/(e^{2|x|} + 1), the
 * exponential by Cody and Waite's reduction, a Taylor polynomial of degree 13 and 2^k from
 * its exponent bits.  Branch-free, so that gcc vectorizes the loops over it.  (gcc may fuse
 * its multiplies and adds, numba does not: the last bits can differ, the work is the same.)
 * set_mlp_tanh(1) makes run_mlp use it (optsim's MLP(tanh="portable")); 0, the default,
 * the C library's tanh.
 */
static int mlp_tanh_portable = 0;

int set_mlp_tanh(int portable)
{
    mlp_tanh_portable = portable;
    return 0;
}

static inline double ptanh(double x)
{
    const double ax = fabs(x), z = x * x;
    const double small = x + x * (z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
                                        - 1.61468768441708447952e3)
                                       / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
                                          + 4.84406305325125486048e3)));
    const double y = 2.0 * (ax < 20.0 ? ax : 20.0);
    const double k = floor(y * 1.44269504088896338700e+00 + 0.5);
    const double r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    static const double E[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
                                 1.0 / 6227020800.0};
    double p = E[13] * r + E[12];
    for (int j = 11; j >= 0; j--)
        p = p * r + E[j];
    const uint64_t bits = (uint64_t)((int64_t)k + 1023) << 52;
    double two_k;
    memcpy(&two_k, &bits, sizeof two_k);
    double big = 1.0 - 2.0 / (p * two_k + 1.0);
    big = x >= 0.0 ? big : -big;
    double out = ax < 0.625 ? small : big;
    out = ax >= 1e-10 ? out : x;
    return ax == ax ? out : x;
}

/*
 * The parameters of a trajectory are kept as W1T (D x H: W1 transposed), b1, W2T (H x C),
 * b2, so that every inner loop of the passes runs over contiguous units without a
 * reduction: Z[k][:] += x_kj W1T[j][:], G1[j][:] += x_kj dZ[k][:].  (Adam is elementwise,
 * so the layout does not change the update.)  A pass works on `m` examples at once, the
 * rows rows[0..m) of X, example-major buffers Z (m x H) and L (m x C).
 */
static void mlp_forward(int m, const int *rows, const double *restrict X, int D, int H, int C,
                        const double *restrict W1T, const double *restrict b1, const double *restrict W2T,
                        const double *restrict b2, double *restrict A, double *restrict L)
{
    for (int k = 0; k < m; k++) {
        const double *restrict xi = X + (size_t)rows[k] * D;
        double *restrict a = A + (size_t)k * H;
        for (int h = 0; h < H; h++)
            a[h] = b1[h];
        for (int j = 0; j < D; j++) {
            const double v = xi[j];
            const double *restrict w = W1T + (size_t)j * H;
            for (int h = 0; h < H; h++)
                a[h] += v * w[h];
        }
        if (mlp_tanh_portable)
            for (int h = 0; h < H; h++)
                a[h] = ptanh(a[h]);
        else
            for (int h = 0; h < H; h++)
                a[h] = tanh(a[h]);
        double *restrict l = L + (size_t)k * C;
        for (int c = 0; c < C; c++)
            l[c] = b2[c];
        for (int h = 0; h < H; h++) {
            const double v = a[h];
            const double *restrict w = W2T + (size_t)h * C;
            for (int c = 0; c < C; c++)
                l[c] += v * w[c];
        }
    }
}

/* log(sum exp l) of C logits, with the maximum taken out first. */
static inline double logsumexp(int C, const double *l)
{
    double mx = l[0];
    for (int c = 1; c < C; c++)
        mx = l[c] > mx ? l[c] : mx;
    double s = 0.0;
    for (int c = 0; c < C; c++)
        s += exp(l[c] - mx);
    return mx + log(s);
}

/* Mean cross-entropy and accuracy on (X [n x D], y), in passes of `m` examples. */
static void mlp_evaluate(int n, int m, int D, int H, int C, const double *X, const int64_t *y, const double *W1T,
                         const double *b1, const double *W2T, const double *b2, int *rows, double *A, double *L,
                         double *loss, double *acc)
{
    double f = 0.0;
    int64_t right = 0;
    for (int i0 = 0; i0 < n; i0 += m) {
        const int mm = n - i0 < m ? n - i0 : m;
        for (int k = 0; k < mm; k++)
            rows[k] = i0 + k;
        mlp_forward(mm, rows, X, D, H, C, W1T, b1, W2T, b2, A, L);
        for (int k = 0; k < mm; k++) {
            const double *l = L + (size_t)k * C;
            const int64_t yi = y[i0 + k];
            f += logsumexp(C, l) - l[yi];
            int best = 0;
            for (int c = 1; c < C; c++)
                if (l[c] > l[best])
                    best = c;
            right += best == yi;
        }
    }
    *loss = f / n;
    *acc = (double)right / n;
}

/*
 * n_traj trajectories of `rule` on the MLP D-H-C (tanh, softmax cross-entropy, mean over
 * the batch): W1 and W2 start from Glorot normals N(0, 2 / (fan_in + fan_out)), the biases
 * from 0.  Minibatches of `batch` training examples in epochs (the previous order
 * reshuffled, the last batch of an epoch shorter: PyTorch's DataLoader(shuffle=True,
 * drop_last=False)).  Trajectory q has learning rate lr[q] and stream q (initialization,
 * then the shuffles).  At rec_steps the full training loss, the test loss and the test
 * accuracy go to out[(k * n_traj + q) * n_rec + r] for k = 0, 1, 2.
 */
int run_mlp(int rule, int n_traj, const double *lr, int n, int D, int H, int C, const double *X,
            const int64_t *y, int n_test, const double *Xt, const int64_t *yt, int batch, int64_t steps,
            const int64_t *rec_steps, int n_rec, const double *hyper, uint64_t seed, double *out)
{
    zig_init();
    hyper_t hp;
    fill_hyper(&hp, hyper);
    const int P = D * H + H + H * C + C;
    const int M = batch > 64 ? batch : 64; /* examples per pass */
    const double sd1 = sqrt(2.0 / (D + H)), sd2 = sqrt(2.0 / (H + C));
#pragma omp parallel
    {
        double *w = amalloc(sizeof(double) * (size_t)P);
        double *g = amalloc(sizeof(double) * (size_t)P);
        double *s1 = amalloc(sizeof(double) * (size_t)P);
        double *s2 = amalloc(sizeof(double) * (size_t)P);
        double *s3 = amalloc(sizeof(double) * (size_t)P);
        double *lrv = amalloc(sizeof(double) * (size_t)P);
        double *A = amalloc(sizeof(double) * (size_t)M * H);
        double *L = amalloc(sizeof(double) * (size_t)M * C);
        double *dz = amalloc(sizeof(double) * (size_t)H);
        int *rows = malloc(sizeof(int) * (size_t)M);
        int *perm = malloc(sizeof(int) * (size_t)n);
        lanes_t st;
        lanes_alloc(&st, 1);
        double *W1T = w, *b1 = w + D * H, *W2T = b1 + H, *b2 = W2T + H * C;
        double *G1 = g, *gb1 = g + D * H, *G2 = gb1 + H, *gb2 = G2 + H * C;

#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < n_traj; q++) {
            lanes_seed(&st, 1, seed, (uint64_t)q);
            for (int j = 0; j < P; j++) {
                w[j] = s1[j] = s2[j] = s3[j] = 0.0;
                lrv[j] = lr[q];
            }
            for (int j = 0; j < D * H; j++)
                W1T[j] = sd1 * zig_from(&st, 0, lane_next(&st, 0));
            for (int j = 0; j < H * C; j++)
                W2T[j] = sd2 * zig_from(&st, 0, lane_next(&st, 0));
            for (int i = 0; i < n; i++)
                perm[i] = i;
            int pos = n, r = 0;
            for (int64_t t = 0;; t++) {
                if (r < n_rec && rec_steps[r] == t) {
                    double f, ft, acc, acc_train;
                    mlp_evaluate(n, M, D, H, C, X, y, W1T, b1, W2T, b2, rows, A, L, &f, &acc_train);
                    mlp_evaluate(n_test, M, D, H, C, Xt, yt, W1T, b1, W2T, b2, rows, A, L, &ft, &acc);
                    out[((size_t)0 * n_traj + q) * n_rec + r] = f;
                    out[((size_t)1 * n_traj + q) * n_rec + r] = ft;
                    out[((size_t)2 * n_traj + q) * n_rec + r] = acc;
                    r++;
                }
                if (t >= steps)
                    break;
                if (pos >= n) { /* a new epoch: shuffle the previous order (Fisher-Yates) */
                    for (int i = n - 1; i > 0; i--) {
                        int k = (int)(lane_uniform(&st, 0) * (i + 1));
                        int tmp = perm[i];
                        perm[i] = perm[k];
                        perm[k] = tmp;
                    }
                    pos = 0;
                }
                const int nb = n - pos < batch ? n - pos : batch;
                const int *bat = perm + pos;
                const double inv = 1.0 / nb;
                mlp_forward(nb, bat, X, D, H, C, W1T, b1, W2T, b2, A, L);
                for (int j = 0; j < P; j++)
                    g[j] = 0.0;
                for (int k = 0; k < nb; k++) {
                    /* d loss / d logits = (softmax - onehot) / nb, in place of the logits */
                    double *restrict l = L + (size_t)k * C;
                    const double *restrict a = A + (size_t)k * H;
                    double mx = l[0];
                    for (int c = 1; c < C; c++)
                        mx = l[c] > mx ? l[c] : mx;
                    double se = 0.0;
                    for (int c = 0; c < C; c++) {
                        l[c] = exp(l[c] - mx);
                        se += l[c];
                    }
                    const double ise = inv / se;
                    for (int c = 0; c < C; c++)
                        l[c] *= ise;
                    l[y[bat[k]]] -= inv;
                    for (int c = 0; c < C; c++)
                        gb2[c] += l[c];
                    /* G2[h][:] += a_h dL; dz_h = (W2T[h] . dL) (1 - a_h^2) */
                    for (int h = 0; h < H; h++) {
                        const double v = a[h];
                        double *restrict gw = G2 + (size_t)h * C;
                        const double *restrict w2 = W2T + (size_t)h * C;
                        double s = 0.0;
                        for (int c = 0; c < C; c++) {
                            gw[c] += v * l[c];
                            s += w2[c] * l[c];
                        }
                        dz[h] = s * (1.0 - v * v);
                    }
                    for (int h = 0; h < H; h++)
                        gb1[h] += dz[h];
                    const double *restrict xi = X + (size_t)bat[k] * D;
                    for (int j = 0; j < D; j++) {
                        const double v = xi[j];
                        double *restrict gw = G1 + (size_t)j * H;
                        for (int h = 0; h < H; h++)
                            gw[h] += v * dz[h];
                    }
                }
                pos += nb;
                rule_update(rule, P, w, g, s1, s2, s3, lrv, t + 1, &hp);
            }
        }
        lanes_free(&st);
        free(w); free(g); free(s1); free(s2); free(s3); free(lrv); free(A); free(L); free(dz); free(rows); free(perm);
    }
    return 0;
}

int omp_threads(void)
{
    int k = 1;
#pragma omp parallel
    {
#pragma omp single
        {
#ifdef _OPENMP
            extern int omp_get_num_threads(void);
            k = omp_get_num_threads();
#endif
        }
    }
    return k;
}
