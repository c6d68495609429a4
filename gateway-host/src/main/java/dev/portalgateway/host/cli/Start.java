package dev.portalgateway.host.cli;

import java.io.File;
import java.lang.reflect.InvocationTargetException;

/**
 * The jar's {@code Main-Class}: compiled for Java 8 (its own compiler execution in
 * {@code gateway-host/pom.xml}), so that {@code java -jar portal-gateway.jar} on a Java older than
 * 21 gets a sentence that names the Java it ran on and the way out, instead of an
 * {@code UnsupportedClassVersionError}. On Java 21 or newer it hands over to {@link Main} at once.
 *
 * <p>Keep it to Java 8's language and library, and free of references to the rest of the gateway:
 * {@link Main} is found by name, so that loading this class never loads a class compiled for 21.
 */
public final class Start {
  static final int NEEDED = 21;

  private Start() {}

  public static void main(String[] args) throws Throwable {
    int feature = feature(System.getProperty("java.specification.version", "0"));
    if (feature < NEEDED) {
      String home = System.getProperty("java.home", "?");
      // A JRE 8's java.home is JDK/jre: name the folder JAVA_HOME would be.
      if (home.endsWith(File.separator + "jre")) {
        home = home.substring(0, home.length() - 4);
      }
      System.err.println("portal-gateway needs Java " + NEEDED + " or newer; this is Java "
          + System.getProperty("java.version", "?") + " at " + home + ".");
      System.err.println("Use bin/portal-gateway, which finds a Java " + NEEDED + "+ by itself, or run"
          + " \"$JAVA_HOME/bin/java\" -jar portal-gateway.jar with JAVA_HOME set to a JDK " + NEEDED + "+");
      System.err.println("(\"java\" alone runs the one on PATH, whatever JAVA_HOME says).");
      System.exit(1);
    }
    try {
      Class.forName("dev.portalgateway.host.cli.Main").getMethod("main", String[].class).invoke(null, (Object) args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** @return 8 for "1.8", 17 for "17", 0 for what is not a number */
  static int feature(String specificationVersion) {
    String v = specificationVersion.startsWith("1.") ? specificationVersion.substring(2) : specificationVersion;
    int end = 0;
    while (end < v.length() && Character.isDigit(v.charAt(end))) {
      end++;
    }
    return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
  }
}
