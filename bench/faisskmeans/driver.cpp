// driver: runs FAISS's k-means (faiss::Clustering, from Debian's
// libfaiss-dev) on a bench fvecs file so that the Go bench can report it
// next to vecbolt's k-means (package analysis) in the same run, on the same
// vectors, k and iteration count. It is compiled and run by
// bench/suite_toolbox_cluster.go only when g++ and the library are present;
// it is not part of vecbolt.
//
// Usage: faisskmeans BASE.fvecs K NITER THREADS SEED
// Output: one JSON object:
//   {"threads":T,"n":N,"dim":D,"k":K,"niter":I,"train_s":S,"train_cpu_s":C,"obj":O}
// Spherical k-means on an inner-product flat index, as vecbolt runs it on
// cosine collections; every point is used (max_points_per_centroid is
// raised above n, so FAISS does not subsample). train_cpu_s is the process's
// CPU time, all threads, so that load from other processes does not
// inflate it. OpenMP's thread count is set here; the caller sets the BLAS
// library's (OPENBLAS_NUM_THREADS) in the environment.
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <omp.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

static std::vector<float> readFvecs(const char *path, int &dim, size_t &rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "faisskmeans: cannot open %s\n", path);
    exit(1);
  }
  std::vector<float> out;
  dim = 0;
  rows = 0;
  int32_t d;
  while (in.read(reinterpret_cast<char *>(&d), 4)) {
    if (d <= 0 || (dim != 0 && d != dim)) {
      fprintf(stderr, "faisskmeans: %s: bad dimension %d in row %zu\n", path, d, rows);
      exit(1);
    }
    dim = d;
    size_t off = out.size();
    out.resize(off + d);
    if (!in.read(reinterpret_cast<char *>(out.data() + off), 4 * (size_t)d)) {
      fprintf(stderr, "faisskmeans: %s: truncated row %zu\n", path, rows);
      exit(1);
    }
    rows++;
  }
  return out;
}

static double processCPU() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: faisskmeans BASE.fvecs K NITER THREADS SEED\n");
    return 2;
  }
  int dim;
  size_t n;
  std::vector<float> x = readFvecs(argv[1], dim, n);
  int k = atoi(argv[2]), niter = atoi(argv[3]), threads = atoi(argv[4]), seed = atoi(argv[5]);
  if (k < 1 || (size_t)k > n || niter < 1 || threads < 1) {
    fprintf(stderr, "faisskmeans: bad arguments\n");
    return 2;
  }
  omp_set_num_threads(threads);
  faiss::ClusteringParameters cp;
  cp.niter = niter;
  cp.spherical = true;
  cp.seed = seed;
  cp.max_points_per_centroid = (int)(n / k) + 1;
  cp.verbose = false;
  faiss::Clustering clus(dim, k, cp);
  faiss::IndexFlatIP index(dim);
  auto t0 = std::chrono::steady_clock::now();
  double c0 = processCPU();
  clus.train(n, x.data(), index);
  double cpu = processCPU() - c0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  float obj = clus.iteration_stats.empty() ? 0 : clus.iteration_stats.back().obj;
  printf("{\"threads\":%d,\"n\":%zu,\"dim\":%d,\"k\":%d,\"niter\":%d,\"train_s\":%.6f,\"train_cpu_s\":%.6f,\"obj\":%.6f}\n",
         threads, n, dim, k, (int)clus.iteration_stats.size(), wall, cpu, obj);
  return 0;
}
