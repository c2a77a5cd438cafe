// OkHttp's side of the host-pattern differential test (run.sh, part 2).
//
//   java -cp okhttp.jar:okio.jar:. OkHttpHostMatch PATTERNS HOSTS POLICY_PATTERNS
//
// Prints the same tab-separated MATCH and HOST lines as host_match.cc:
//   MATCH <pattern> <host> match|no|host-invalid|pattern-refused
//   HOST  <host> <canonical or -> pinned|unpinned|host-invalid -
// A host is first put through HttpUrl, as OkHttp does before it calls the
// pinner (RealConnection passes url.host()); "host-invalid" means HttpUrl
// refuses it. findMatchingPins is package-private in OkHttp 3.x, so it is
// reached by reflection. Pins are derived from the pattern text: only which
// patterns match is compared, never the pins themselves.
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import okhttp3.CertificatePinner;
import okhttp3.HttpUrl;

public final class OkHttpHostMatch {
  private static List<String> lines(String path) throws Exception {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) out.add(line);
    }
    return out;
  }

  private static String pinFor(String pattern) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(pattern.getBytes(StandardCharsets.UTF_8));
    return "sha256/" + Base64.getEncoder().encodeToString(digest);
  }

  private static String canonicalHost(String host) {
    HttpUrl url = HttpUrl.parse("https://" + host + "/");
    return url == null ? null : url.host();
  }

  public static void main(String[] args) throws Exception {
    List<String> patterns = lines(args[0]);
    List<String> hosts = lines(args[1]);
    List<String> policyPatterns = lines(args[2]);
    Method find = CertificatePinner.class.getDeclaredMethod("findMatchingPins", String.class);
    find.setAccessible(true);
    StringBuilder out = new StringBuilder();

    for (String pattern : patterns) {
      CertificatePinner pinner = null;
      try {
        pinner = new CertificatePinner.Builder().add(pattern, pinFor(pattern)).build();
      } catch (IllegalArgumentException e) {
        pinner = null;
      }
      for (String host : hosts) {
        String canonical = canonicalHost(host);
        String result;
        if (pinner == null) {
          result = "pattern-refused";
        } else if (canonical == null) {
          result = "host-invalid";
        } else {
          result = ((List<?>) find.invoke(pinner, canonical)).isEmpty() ? "no" : "match";
        }
        out.append("MATCH\t").append(pattern).append('\t').append(host).append('\t').append(result).append('\n');
      }
    }

    CertificatePinner.Builder all = new CertificatePinner.Builder();
    for (String pattern : policyPatterns) all.add(pattern, pinFor(pattern));
    CertificatePinner pinner = all.build();
    for (String host : hosts) {
      String canonical = canonicalHost(host);
      if (canonical == null) {
        out.append("HOST\t").append(host).append("\t-\thost-invalid\t-\n");
        continue;
      }
      boolean pinned = !((List<?>) find.invoke(pinner, canonical)).isEmpty();
      out.append("HOST\t").append(host).append('\t').append(canonical).append('\t')
          .append(pinned ? "pinned" : "unpinned").append("\t-\n");
    }
    System.out.write(out.toString().getBytes(StandardCharsets.UTF_8));
    System.out.flush();
  }
}
