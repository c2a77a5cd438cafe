// Runs many exported OkHttp CertificatePinners (`pinion export --to okhttp-java --java-class
// NAME`) on validated chains in one JVM, for the export property test.
//
//   java -cp okhttp.jar:okio.jar:DIR OkHttpBatchCheck CASES
//
// CASES has one line per check: "<class>\t<host>\t<chain.pem>" (the chain as OkHttp's
// certificate chain cleaner leaves it: leaf first, ending at the trust anchor). Prints one
// line per case, in order: "accept", "pin" or "error <what>".
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.CertificatePinner;

public final class OkHttpBatchCheck {
  public static void main(String[] args) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    Map<String, List<Certificate>> chains = new HashMap<>();
    StringBuilder out = new StringBuilder();
    try (BufferedReader cases = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
      for (String line; (line = cases.readLine()) != null; ) {
        String[] fields = line.split("\t");
        String result;
        try {
          CertificatePinner pinner =
              (CertificatePinner) Class.forName(fields[0]).getField("CERTIFICATE_PINNER").get(null);
          List<Certificate> chain = chains.get(fields[2]);
          if (chain == null) {
            try (FileInputStream in = new FileInputStream(fields[2])) {
              chain = new ArrayList<>(factory.generateCertificates(in));
            }
            chains.put(fields[2], chain);
          }
          pinner.check(fields[1], chain);
          result = "accept";
        } catch (SSLPeerUnverifiedException e) {
          result = "pin";
        } catch (Throwable e) {
          result = "error " + e.toString().replace('\n', ' ');
        }
        out.append(result).append('\n');
      }
    }
    System.out.print(out);
  }
}
