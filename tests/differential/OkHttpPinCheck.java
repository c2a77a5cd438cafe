// Runs an OkHttp CertificatePinner exported by `pinion export --to okhttp-java` (class
// PinionPins) on PEM chains, as OkHttp would after its own validation (run.sh, part 2b).
//
//   java -cp okhttp.jar:okio.jar:DIR OkHttpPinCheck HOST CHAIN.pem...
//
// Prints one line per chain: "<chain> accept" or "<chain> pin".
import java.io.FileInputStream;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;

public final class OkHttpPinCheck {
  public static void main(String[] args) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    for (int i = 1; i < args.length; i++) {
      List<Certificate> chain;
      try (FileInputStream in = new FileInputStream(args[i])) {
        chain = new ArrayList<>(factory.generateCertificates(in));
      }
      String result = "accept";
      try {
        PinionPins.CERTIFICATE_PINNER.check(args[0], chain);
      } catch (SSLPeerUnverifiedException e) {
        result = "pin";
      }
      System.out.println(args[i] + " " + result);
    }
  }
}
