/*
 * Generates java_vectors.txt for tests/unit/test_hashring.c.
 *
 * Written for dorafs (not Alluxio code).  It restates, in Java and with the
 * real Guava hasher and JDK collections, the worker-selection algorithms of
 * Alluxio's ConsistentHashProvider, KetamaHashProvider, JumpHashProvider and
 * MultiProbeHashProvider (package alluxio.client.file.dora), so that the
 * Java-specific semantics the C code has to reproduce are exercised by Java
 * itself: Guava murmur3_32_fixed and Hasher.putInt byte order, HashCode.asInt,
 * TreeMap.ceilingEntry/tailMap, int overflow, String.format("%s%d"),
 * Collections.binarySearch, Math.abs(Integer.MIN_VALUE), and the double
 * arithmetic of jump consistent hashing.
 *
 * Run from this directory (Debian: libguava-java, OpenJDK >= 11):
 *   java -cp /usr/share/java/guava.jar GenVectors.java > java_vectors.txt
 * It also re-checks the alluxio-py vectors (url_workers.txt) and exits
 * non-zero if they do not match, which validates the harness itself.
 */
import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

public class GenVectors {
  static final HashFunction H = Hashing.murmur3_32_fixed();
  static final int MAX_ATTEMPTS = 100;

  /** A worker identity: identifier bytes plus version, compared by value. */
  static final class Ident {
    final byte[] id;
    final int version;

    Ident(byte[] id, int version) {
      this.id = id;
      this.version = version;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Ident && ((Ident) o).version == version
          && Arrays.equals(((Ident) o).id, id);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(id) * 31 + version;
    }

    String show() {
      StringBuilder sb = new StringBuilder().append(version).append(':');
      for (byte b : id) {
        sb.append(String.format("%02x", b & 0xff));
      }
      return sb.toString();
    }
  }

  /** murmur(id || le32(version)), the HashFunnel with nothing appended. */
  static int identHash(Ident w) {
    return H.newHasher().putBytes(w.id).putInt(w.version).hash().asInt();
  }

  interface Picker {
    Ident pick(String key, int attempt);
  }

  static List<Ident> getMultiple(Picker p, String key, int count) {
    LinkedHashSet<Ident> out = new LinkedHashSet<>();
    for (int attempt = 1; out.size() < count && attempt <= MAX_ATTEMPTS; attempt++) {
      out.add(p.pick(key, attempt));
    }
    return new ArrayList<>(out);
  }

  static Picker consistent(List<Ident> workers, int vnodes) {
    TreeMap<Integer, Ident> ring = new TreeMap<>();
    for (Ident w : workers) {
      for (int i = 0; i < vnodes; i++) {
        ring.put(H.newHasher().putBytes(w.id).putInt(w.version).putInt(i).hash().asInt(), w);
      }
    }
    return (key, attempt) -> {
      int h = H.newHasher().putString(key, StandardCharsets.UTF_8).putInt(attempt).hash().asInt();
      Map.Entry<Integer, Ident> e = ring.ceilingEntry(h);
      return (e != null ? e : ring.firstEntry()).getValue();
    };
  }

  static Picker ketama(List<Ident> workers, int replicas) {
    TreeMap<Integer, Ident> ring = new TreeMap<>();
    for (Ident w : workers) {
      int base = identHash(w);
      for (int i = 0; i < replicas; i++) {
        ring.put(base + i, w);
      }
    }
    return (key, attempt) -> {
      int h = H.hashString(String.format("%s%d", key, attempt), StandardCharsets.UTF_8).asInt();
      if (!ring.containsKey(h)) {
        SortedMap<Integer, Ident> tail = ring.tailMap(h);
        h = tail.isEmpty() ? ring.firstKey() : tail.firstKey();
      }
      return ring.get(h);
    };
  }

  static int jump(int key, int buckets) {
    long b = -1;
    long k = key;
    long j = 0;
    while (j < buckets) {
      b = j;
      k = k * Long.parseUnsignedLong("2862933555777941757") + 1L;
      j = (long) ((b + 1L) * ((1L << 31) / (double) ((k >>> 33) + 1L)));
    }
    return (int) b;
  }

  static Picker jumpPicker(List<Ident> workers) {
    return (key, attempt) -> {
      int h = H.hashString(String.format("%s%d", key, attempt), StandardCharsets.UTF_8).asInt();
      return workers.get(jump(h, workers.size()));
    };
  }

  static final class Point implements Comparable<Point> {
    final Ident w;
    final int hash;

    Point(Ident w, int hash) {
      this.w = w;
      this.hash = hash;
    }

    @Override
    public int compareTo(Point o) {
      return Integer.compare(hash, o.hash);
    }
  }

  static Picker multiProbe(List<Ident> workers, int probes) {
    List<Point> ring = new ArrayList<>();
    for (Ident w : workers) {
      int hash = H.hashString(String.format("%d%d", identHash(w), 0xDEADBEEF),
          StandardCharsets.UTF_8).asInt();
      Point p = new Point(w, hash);
      int pos = Collections.binarySearch(ring, p);
      if (pos >= 0) {
        throw new IllegalStateException("duplicate multi-probe point");
      }
      ring.add(-(pos + 1), p);
    }
    return (key, attempt) -> {
      String s = String.format("%s%d", key, attempt);
      int index = 0;
      int minDistance = Integer.MAX_VALUE;
      for (int i = 0; i < probes; i++) {
        int hv = H.hashString(String.format("%s%d", s, i), StandardCharsets.UTF_8).asInt();
        int low = 0;
        int high = ring.size();
        while (low < high) {
          int mid = (low + high) >>> 1;
          if (ring.get(mid).hash > hv) {
            high = mid;
          } else {
            low = mid + 1;
          }
        }
        if (low >= ring.size()) {
          low = 0;
        }
        int distance = Math.abs(ring.get(low).hash - hv);
        if (distance < minDistance) {
          minDistance = distance;
          index = low;
        }
      }
      return ring.get(index).w;
    };
  }

  static byte[] unhex(String s) {
    byte[] b = new byte[s.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return b;
  }

  static Ident parseIdent(String vhex) {
    int c = vhex.indexOf(':');
    return new Ident(unhex(vhex.substring(c + 1)), Integer.parseInt(vhex.substring(0, c)));
  }

  static String show(List<Ident> ws) {
    StringBuilder sb = new StringBuilder();
    for (Ident w : ws) {
      sb.append(sb.length() == 0 ? "" : " ").append(w.show());
    }
    return sb.toString();
  }

  public static void main(String[] args) throws Exception {
    // %d must give ASCII digits as in Alluxio's usual deployments.
    Locale.setDefault(Locale.ROOT);

    List<Ident> py50 = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("worker_list.txt"))) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(" ");
      py50.add(new Ident(unhex(f[1]), Integer.parseInt(f[0])));
    }
    List<Ident> legacy8 = new ArrayList<>();
    for (long id = 1; id <= 8; id++) {
      byte[] b = new byte[8];
      for (int i = 0; i < 8; i++) {
        b[i] = (byte) (id >>> (56 - 8 * i)); // Guava Longs.toByteArray
      }
      legacy8.add(new Ident(b, 0));
    }
    Map<String, List<Ident>> published = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("url_workers.txt"))) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] kv = line.split("\t");
      List<Ident> ws = new ArrayList<>();
      for (String v : kv[1].split(" ")) {
        ws.add(parseIdent(v));
      }
      published.put(kv[0], ws);
    }

    // Validate the harness against the alluxio-py (Java-generated) vectors.
    Picker check = consistent(py50, 5);
    for (Map.Entry<String, List<Ident>> e : published.entrySet()) {
      if (!getMultiple(check, e.getKey(), 5).equals(e.getValue())) {
        System.err.println("harness disagrees with published vector for " + e.getKey());
        System.exit(1);
      }
    }

    List<String> keys = new ArrayList<>(published.keySet());
    keys.addAll(Arrays.asList(
        "", "a", "ab", "abc", "abcd", "hdfs://a/b/c", "fileId",
        "s3://bucket/dir/\u65e5\u672c\u8a9e/\u00e9t\u00e9.txt",
        "s3://bucket/" + "x".repeat(1000)));

    System.out.println("# Generated by GenVectors.java (see its header) with Guava "
        + "murmur3_32_fixed; do not edit.");
    System.out.println("# <POLICY> <workerset> <param> <count> TAB <key> TAB <version:hex>...");
    System.out.println("# workersets: py50 = worker_list.txt in file order; "
        + "legacy8 = version-0 ids 1..8 in order.");
    System.out.println("# param: virtual nodes (CONSISTENT), replicas (KETAMA), "
        + "probes (MULTI_PROBE), 0 (JUMP).");
    Map<String, List<Ident>> sets = new LinkedHashMap<>();
    sets.put("py50", py50);
    sets.put("legacy8", legacy8);
    int[][] params = {{5, 2000}, {200, 7}, {0}, {21, 3}}; // C, K, J, M
    String[] names = {"CONSISTENT", "KETAMA", "JUMP", "MULTI_PROBE"};
    for (Map.Entry<String, List<Ident>> set : sets.entrySet()) {
      List<Ident> ws = set.getValue();
      int[] counts = ws.size() == 8 ? new int[] {2, 8} : new int[] {5};
      for (int p = 0; p < names.length; p++) {
        for (int param : params[p]) {
          Picker picker;
          switch (p) {
            case 0: picker = consistent(ws, param); break;
            case 1: picker = ketama(ws, param); break;
            case 2: picker = jumpPicker(ws); break;
            default: picker = multiProbe(ws, param); break;
          }
          for (int count : counts) {
            for (String key : keys) {
              System.out.println(names[p] + " " + set.getKey() + " " + param + " " + count
                  + "\t" + key + "\t" + show(getMultiple(picker, key, count)));
            }
          }
        }
      }
    }
  }
}
