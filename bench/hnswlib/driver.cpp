// driver: runs hnswlib (C++, from Debian's libhnswlib-dev) on the
// bench's fvecs/ivecs files so that the Go bench can report it next to
// vecbolt in the same run, on the same vectors, queries and ground truth.
// It is compiled and run by bench/hnswlib.go only when g++ and the headers
// are present; it is not part of vecbolt.
//
// Usage: hnswlib_driver BASE.fvecs QUERY.fvecs GT.ivecs M EFC K BUILD_THREADS EF[,EF...] [INDEX]
// With INDEX, an index saved there by an earlier run is loaded instead of
// built, and a built one is saved there (hnswlib's own file format), so
// that a build of hours can be searched again in a later run.
// Output: one JSON object per line:
//   {"phase":"build","threads":T,"build_s":S,"rss_mb":R}
//     or {"phase":"load","load_s":S,"rss_mb":R}
//   {"ef":E,"recall":R,"qps_1t":Q,"qps_1t_cpu":C,"qps_2t":Q2,"p50_ms":P,"p99_ms":P}
// qps_1t_cpu counts the searching thread's CPU time instead of wall time,
// so that load from other processes does not lower it.
// Inner-product space, as anchors.md's reference run; the vectors are unit
// length, so this ranks like cosine.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

template <typename T>
static std::vector<T> readVecs(const char *path, int &dim, size_t &rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "hnswlib_driver: cannot open %s\n", path);
    exit(1);
  }
  std::vector<T> out;
  dim = 0;
  rows = 0;
  int32_t d;
  while (in.read(reinterpret_cast<char *>(&d), 4)) {
    if (d <= 0 || (dim != 0 && d != dim)) {
      fprintf(stderr, "hnswlib_driver: %s: bad dimension %d in row %zu\n", path, d, rows);
      exit(1);
    }
    dim = d;
    size_t off = out.size();
    out.resize(off + d);
    if (!in.read(reinterpret_cast<char *>(out.data() + off), 4 * (size_t)d)) {
      fprintf(stderr, "hnswlib_driver: %s: truncated row %zu\n", path, rows);
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

using Clock = std::chrono::steady_clock;

static double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// threadCPU is the calling thread's CPU time in seconds.
static double threadCPU() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 9 && argc != 10) {
    fprintf(stderr, "usage: %s BASE.fvecs QUERY.fvecs GT.ivecs M EFC K BUILD_THREADS EF[,EF...] [INDEX]\n", argv[0]);
    return 2;
  }
  std::string saved = argc == 10 ? argv[9] : "";
  int dim, qdim, gtk;
  size_t n, nq, ngt;
  std::vector<float> base = readVecs<float>(argv[1], dim, n);
  std::vector<float> queries = readVecs<float>(argv[2], qdim, nq);
  std::vector<int32_t> gt = readVecs<int32_t>(argv[3], gtk, ngt);
  int M = atoi(argv[4]), efc = atoi(argv[5]), k = atoi(argv[6]), threads = atoi(argv[7]);
  std::vector<int> efs;
  {
    std::stringstream ss(argv[8]);
    std::string tok;
    while (std::getline(ss, tok, ',')) efs.push_back(atoi(tok.c_str()));
  }
  if (qdim != dim || ngt != nq || gtk < k || M < 2 || efc < 1 || k < 1 || threads < 1 || efs.empty()) {
    fprintf(stderr, "hnswlib_driver: inconsistent inputs\n");
    return 2;
  }

  hnswlib::InnerProductSpace space(dim);
  double rss0 = rssMB();
  auto t0 = Clock::now();
  bool load = !saved.empty() && std::ifstream(saved).good();
  hnswlib::HierarchicalNSW<float> *built = nullptr;
  if (load) {
    built = new hnswlib::HierarchicalNSW<float>(&space, saved, false, n);
    if (built->cur_element_count != n || built->data_size_ != dim * sizeof(float)) {
      fprintf(stderr, "hnswlib_driver: %s holds %zu vectors of %zu bytes, want %zu of %zu\n", saved.c_str(),
              (size_t)built->cur_element_count, (size_t)built->data_size_, n, dim * sizeof(float));
      return 1;
    }
    printf("{\"phase\":\"load\",\"load_s\":%.6f,\"rss_mb\":%.3f}\n", seconds(t0, Clock::now()), rssMB() - rss0);
  } else {
    built = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
    // hnswlib's own recipe: the first point alone, then the rest in parallel.
    built->addPoint(base.data(), 0);
    std::atomic<size_t> next(1);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
      ts.emplace_back([&]() {
        for (size_t i; (i = next.fetch_add(1)) < n;) built->addPoint(base.data() + i * dim, i);
      });
    }
    for (auto &t : ts) t.join();
    double build = seconds(t0, Clock::now());
    printf("{\"phase\":\"build\",\"threads\":%d,\"build_s\":%.6f,\"rss_mb\":%.3f}\n", threads, build, rssMB() - rss0);
    if (!saved.empty()) {
      // Saved under a temporary name and renamed, so that a killed run
      // leaves no partial index for the next one to load.
      std::string tmp = saved + ".tmp";
      built->saveIndex(tmp);
      if (rename(tmp.c_str(), saved.c_str()) != 0) {
        fprintf(stderr, "hnswlib_driver: cannot rename %s\n", tmp.c_str());
        return 1;
      }
    }
  }
  fflush(stdout);
  hnswlib::HierarchicalNSW<float> &index = *built;

  std::vector<std::vector<size_t>> got(nq);
  std::vector<double> lat(nq);
  for (int ef : efs) {
    index.setEf(std::max(ef, k));
    double best1 = 0, p50 = 0, p99 = 0, best2 = 0, bestCPU = 0;
    // Best of up to five runs within five seconds, as the Go side does.
    double spent = 0;
    for (int rep = 0; rep < 5 && (rep == 0 || spent < 5); rep++) {
      auto s0 = Clock::now();
      double c0 = threadCPU();
      for (size_t q = 0; q < nq; q++) {
        auto a = Clock::now();
        auto res = index.searchKnn(queries.data() + q * dim, k);
        lat[q] = seconds(a, Clock::now());
        if (rep == 0) {
          got[q].clear();
          while (!res.empty()) {
            got[q].push_back(res.top().second);
            res.pop();
          }
        }
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
      std::atomic<size_t> nextq(0);
      auto s0 = Clock::now();
      std::thread a([&]() { for (size_t q; (q = nextq.fetch_add(1)) < nq;) index.searchKnn(queries.data() + q * dim, k); });
      std::thread b([&]() { for (size_t q; (q = nextq.fetch_add(1)) < nq;) index.searchKnn(queries.data() + q * dim, k); });
      a.join();
      b.join();
      double el = seconds(s0, Clock::now());
      spent += el;
      best2 = std::max(best2, nq / el);
    }
    double hits = 0;
    for (size_t q = 0; q < nq; q++) {
      std::unordered_set<size_t> want(gt.begin() + q * gtk, gt.begin() + q * gtk + k);
      for (size_t id : got[q]) hits += want.count(id);
    }
    printf("{\"ef\":%d,\"recall\":%.6f,\"qps_1t\":%.3f,\"qps_1t_cpu\":%.3f,\"qps_2t\":%.3f,\"p50_ms\":%.6f,\"p99_ms\":%.6f}\n", ef,
           hits / (double)(nq * k), best1, bestCPU, best2, p50, p99);
    fflush(stdout);
  }
  return 0;
}
