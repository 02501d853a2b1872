// driver: runs FAISS's IndexHNSWFlat and IndexIVFPQ (from Debian's
// libfaiss-dev) on the bench's fvecs/ivecs files so that the Go bench can
// report them next to vecbolt and hnswlib in the same run, on the same
// vectors, queries and ground truth. It is compiled and run by
// bench/faiss_ann.go only when g++ and the library are present; it is not
// part of vecbolt.
//
// Usage:
//   faissann hnsw  BASE.fvecs QUERY.fvecs GT.ivecs K THREADS M EFC EF[,EF...]
//   faissann ivfpq BASE.fvecs QUERY.fvecs GT.ivecs K THREADS NLIST PQM NBITS TRAIN NPROBE[,NPROBE...]
// Output: one JSON object per line:
//   {"phase":"build","threads":T,"build_s":S,"train_s":S,"rss_mb":R,"metric":"ip|l2","index_bytes":B,...}
//   {"param":P,"recall":R,"qps_1t":Q,"qps_1t_cpu":C,"qps_2t":Q2,"p50_ms":P,"p99_ms":P}
// where P is efSearch (hnsw) or nprobe (ivfpq).
//
// Queries are answered one at a time (index.search with one row), as an
// application serving requests does and as hnswlib's driver
// (bench/hnswlib/driver.cpp) does; OpenMP is held to one thread per
// searching thread so that "1 thread" means one core. THREADS is the build's
// OpenMP thread count (the caller sets OPENBLAS_NUM_THREADS to match for
// IVF training). qps_1t_cpu counts the searching thread's CPU time instead
// of wall time, so that load from other processes does not lower it.
//
// Metric: HNSW uses inner product, as hnswlib's driver does. IVFPQ uses L2
// when every base and query vector has unit length (then L2 ranks exactly
// as inner product does, and FAISS's residual PQ is built for L2, with its
// precomputed tables), inner product otherwise.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/invlists/InvertedLists.h>
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

template <typename T>
static std::vector<T> readVecs(const char *path, int &dim, size_t &rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "faissann: cannot open %s\n", path);
    exit(1);
  }
  std::vector<T> out;
  dim = 0;
  rows = 0;
  int32_t d;
  while (in.read(reinterpret_cast<char *>(&d), 4)) {
    if (d <= 0 || (dim != 0 && d != dim)) {
      fprintf(stderr, "faissann: %s: bad dimension %d in row %zu\n", path, d, rows);
      exit(1);
    }
    dim = d;
    size_t off = out.size();
    out.resize(off + d);
    if (!in.read(reinterpret_cast<char *>(out.data() + off), 4 * (size_t)d)) {
      fprintf(stderr, "faissann: %s: truncated row %zu\n", path, rows);
      exit(1);
    }
    rows++;
  }
  return out;
}

static double rssMB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      double kb = 0;
      ss >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

// FAISS 1.7.3 declares the id type inside Index (later versions at namespace
// level).
using idx_t = faiss::Index::idx_t;
using Clock = std::chrono::steady_clock;

static double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

static double threadCPU() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static std::vector<int> parseList(const char *s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    int v = atoi(tok.c_str());
    if (v < 1) {
      fprintf(stderr, "faissann: bad list entry \"%s\" in %s\n", tok.c_str(), s);
      exit(2);
    }
    out.push_back(v);
  }
  return out;
}

static bool unitLength(const std::vector<float> &x, int dim) {
  for (size_t off = 0; off < x.size(); off += dim) {
    double s = 0;
    for (int j = 0; j < dim; j++) s += (double)x[off + j] * x[off + j];
    if (std::fabs(s - 1) > 1e-3) return false;
  }
  return true;
}

template <typename T>
static size_t capBytes(const std::vector<T> &v) {
  return v.capacity() * sizeof(T);
}

// sweep measures one setting: queries one at a time on one thread (best of
// up to five runs within five seconds; the first run's answers give the
// recall) and on two threads sharing the query list.
template <typename Search>
static void sweep(int param, size_t nq, int dim, int k, const std::vector<float> &queries, const std::vector<int32_t> &gt,
                  int gtk, Search search) {
  std::vector<std::vector<idx_t>> got(nq);
  std::vector<double> lat(nq);
  std::vector<float> D(k);
  std::vector<idx_t> I(k);
  double best1 = 0, p50 = 0, p99 = 0, best2 = 0, bestCPU = 0, spent = 0;
  for (int rep = 0; rep < 5 && (rep == 0 || spent < 5); rep++) {
    auto s0 = Clock::now();
    double c0 = threadCPU();
    for (size_t q = 0; q < nq; q++) {
      auto a = Clock::now();
      search(queries.data() + q * dim, D.data(), I.data());
      lat[q] = seconds(a, Clock::now());
      if (rep == 0) got[q].assign(I.begin(), I.end());
    }
    double el = seconds(s0, Clock::now());
    bestCPU = std::max(bestCPU, nq / (threadCPU() - c0));
    spent += el;
    if (nq / el > best1) {
      best1 = nq / el;
      std::vector<double> s = lat;
      std::sort(s.begin(), s.end());
      p50 = s[(size_t)std::max<long>(0, (long)((nq * 50 + 99) / 100) - 1)] * 1e3;
      p99 = s[(size_t)std::max<long>(0, (long)((nq * 99 + 99) / 100) - 1)] * 1e3;
    }
  }
  spent = 0;
  for (int rep = 0; rep < 5 && (rep == 0 || spent < 5); rep++) {
    std::atomic<size_t> next(0);
    auto worker = [&]() {
      omp_set_num_threads(1);
      std::vector<float> d(k);
      std::vector<idx_t> i(k);
      for (size_t q; (q = next.fetch_add(1)) < nq;) search(queries.data() + q * dim, d.data(), i.data());
    };
    auto s0 = Clock::now();
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    double el = seconds(s0, Clock::now());
    spent += el;
    best2 = std::max(best2, nq / el);
  }
  double hits = 0;
  for (size_t q = 0; q < nq; q++) {
    std::unordered_set<idx_t> want(gt.begin() + q * gtk, gt.begin() + q * gtk + k);
    for (idx_t id : got[q]) hits += id >= 0 && want.count(id);
  }
  printf("{\"param\":%d,\"recall\":%.6f,\"qps_1t\":%.3f,\"qps_1t_cpu\":%.3f,\"qps_2t\":%.3f,\"p50_ms\":%.6f,\"p99_ms\":%.6f}\n", param,
         hits / (double)(nq * k), best1, bestCPU, best2, p50, p99);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *usage =
      "usage: faissann hnsw BASE.fvecs QUERY.fvecs GT.ivecs K THREADS M EFC EF[,EF...]\n"
      "       faissann ivfpq BASE.fvecs QUERY.fvecs GT.ivecs K THREADS NLIST PQM NBITS TRAIN NPROBE[,NPROBE...]\n";
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  std::string mode = argv[1];
  if (!((mode == "hnsw" && argc == 10) || (mode == "ivfpq" && argc == 12))) {
    fputs(usage, stderr);
    return 2;
  }
  int dim, qdim, gtk;
  size_t n, nq, ngt;
  std::vector<float> base = readVecs<float>(argv[2], dim, n);
  std::vector<float> queries = readVecs<float>(argv[3], qdim, nq);
  std::vector<int32_t> gt = readVecs<int32_t>(argv[4], gtk, ngt);
  int k = atoi(argv[5]), threads = atoi(argv[6]);
  if (qdim != dim || ngt != nq || gtk < k || k < 1 || threads < 1 || n == 0) {
    fprintf(stderr, "faissann: inconsistent inputs\n");
    return 2;
  }
  omp_set_num_threads(threads);

  if (mode == "hnsw") {
    int M = atoi(argv[7]), efc = atoi(argv[8]);
    std::vector<int> efs = parseList(argv[9]);
    if (M < 2 || efc < 1) {
      fprintf(stderr, "faissann: bad M or efConstruction\n");
      return 2;
    }
    double rss0 = rssMB();
    auto t0 = Clock::now();
    faiss::IndexHNSWFlat index(dim, M, faiss::METRIC_INNER_PRODUCT);
    index.hnsw.efConstruction = efc;
    index.add(n, base.data());
    double build = seconds(t0, Clock::now());
    const faiss::HNSW &h = index.hnsw;
    auto *flat = dynamic_cast<faiss::IndexFlatCodes *>(index.storage);
    size_t bytes = capBytes(h.neighbors) + capBytes(h.offsets) + capBytes(h.levels) + (flat ? capBytes(flat->codes) : 0);
    printf("{\"phase\":\"build\",\"threads\":%d,\"build_s\":%.6f,\"rss_mb\":%.3f,\"metric\":\"ip\",\"index_bytes\":%zu}\n", threads,
           build, rssMB() - rss0, bytes);
    fflush(stdout);
    omp_set_num_threads(1);
    for (int ef : efs) {
      index.hnsw.efSearch = std::max(ef, k);
      sweep(ef, nq, dim, k, queries, gt, gtk, [&](const float *q, float *D, idx_t *I) { index.search(1, q, k, D, I); });
    }
    return 0;
  }

  size_t nlist = atol(argv[7]), pqm = atol(argv[8]), nbits = atol(argv[9]), ntrain = atol(argv[10]);
  std::vector<int> nprobes = parseList(argv[11]);
  if (nlist < 1 || nlist > n || pqm < 1 || dim % pqm != 0 || nbits < 1 || nbits > 16 || ntrain < nlist || ntrain > n) {
    fprintf(stderr, "faissann: bad NLIST, PQM (must divide %d), NBITS or TRAIN\n", dim);
    return 2;
  }
  bool unit = unitLength(base, dim) && unitLength(queries, dim);
  faiss::MetricType metric = unit ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  // The training sample: ntrain rows drawn without replacement with a
  // fixed seed (the data sets are generated in random order already, but
  // a user's need not be).
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; i++) rows[i] = i;
  std::mt19937_64 rng(1);
  for (size_t i = 0; i < ntrain; i++) std::swap(rows[i], rows[i + rng() % (n - i)]);
  std::vector<float> sample(ntrain * dim);
  for (size_t i = 0; i < ntrain; i++) memcpy(&sample[i * dim], &base[rows[i] * dim], sizeof(float) * dim);

  double rss0 = rssMB();
  auto t0 = Clock::now();
  std::unique_ptr<faiss::IndexFlat> quantizer;
  if (unit)
    quantizer.reset(new faiss::IndexFlatL2(dim));
  else
    quantizer.reset(new faiss::IndexFlatIP(dim));
  faiss::IndexIVFPQ index(quantizer.get(), dim, nlist, pqm, nbits, metric);
  index.cp.seed = 1;
  index.train(ntrain, sample.data());
  double train = seconds(t0, Clock::now());
  std::vector<float>().swap(sample);
  index.add(n, base.data());
  double build = seconds(t0, Clock::now());
  auto *il = dynamic_cast<faiss::ArrayInvertedLists *>(index.invlists);
  if (!il) {
    fprintf(stderr, "faissann: unexpected inverted lists type\n");
    return 1;
  }
  // Bytes the index holds, by part: the codes and ids in the lists (vector
  // capacity, so growth slack counts), the lists' own headers, the coarse
  // centroids, the PQ codebooks and FAISS's precomputed L2 tables.
  size_t codes = 0, ids = 0;
  for (size_t l = 0; l < nlist; l++) {
    codes += capBytes(il->codes[l]);
    ids += capBytes(il->ids[l]);
  }
  size_t headers = capBytes(il->codes) + capBytes(il->ids);
  size_t coarse = capBytes(quantizer->codes);
  size_t pq = capBytes(index.pq.centroids);
  size_t tables = index.precomputed_table.size() * sizeof(float);
  printf("{\"phase\":\"build\",\"threads\":%d,\"build_s\":%.6f,\"train_s\":%.6f,\"rss_mb\":%.3f,\"metric\":\"%s\",\"code_size\":%zu,"
         "\"codes_bytes\":%zu,\"ids_bytes\":%zu,\"list_header_bytes\":%zu,\"coarse_bytes\":%zu,\"pq_bytes\":%zu,\"table_bytes\":%zu,"
         "\"index_bytes\":%zu,\"ntrain\":%zu}\n",
         threads, build, train, rssMB() - rss0, unit ? "l2" : "ip", index.code_size, codes, ids, headers, coarse, pq, tables,
         codes + ids + headers + coarse + pq + tables, ntrain);
  fflush(stdout);
  omp_set_num_threads(1);
  for (int np : nprobes) {
    index.nprobe = std::min<size_t>(np, nlist);
    sweep(np, nq, dim, k, queries, gt, gtk, [&](const float *q, float *D, idx_t *I) { index.search(1, q, k, D, I); });
  }
  return 0;
}
