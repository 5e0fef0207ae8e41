import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
// Prints the iteration order of CommandUtils.readNodeList's HashSet for a workers file.
public class HashSetOrder {
  public static void main(String[] a) throws Exception {
    List<String> lines = Files.readAllLines(Paths.get(a[0]), StandardCharsets.UTF_8);
    Set<String> nodes = new HashSet<>();
    for (String line : lines) { String n = line.trim(); if (n.startsWith("#") || n.length() == 0) continue; nodes.add(n); }
    for (String n : nodes) System.out.println(n + "\t" + UUID.nameUUIDFromBytes(n.getBytes(StandardCharsets.UTF_8)));
  }
}
