package dev.portalgateway.plugins.sso;

import java.io.File;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's chromium and chromium-driver), driven by Selenium with the
 * driver path given, so that Selenium Manager never runs, and with every host name but localhost
 * unresolvable, so that nothing leaves the machine.
 */
final class Browser implements AutoCloseable {
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String CHROMEDRIVER = "/usr/bin/chromedriver";

  final WebDriver driver;

  Browser() {
    if (!new File(CHROMIUM).canExecute() || !new File(CHROMEDRIVER).canExecute()) {
      throw new IllegalStateException("Chromium is not installed: run .ci/run, or apt-get install chromium chromium-driver");
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
  }

  void open(String url) {
    driver.get(url);
  }

  String url() {
    return driver.getCurrentUrl();
  }

  /** Waits for an element with this id and returns its text. */
  String text(String id) {
    return new WebDriverWait(driver, Duration.ofSeconds(20))
        .until(ExpectedConditions.visibilityOfElementLocated(By.id(id))).getText();
  }

  /** On mock-oauth2-server's interactive login page: types the user name (and claims) and submits. */
  void logInAs(String user, String claimsJson) {
    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.name("username"))).sendKeys(user);
    if (claimsJson != null) {
      driver.findElement(By.name("claims")).sendKeys(claimsJson);
    }
    driver.findElement(By.cssSelector("input[type=submit]")).click();
  }

  void waitForUrl(String url) {
    new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.urlToBe(url));
  }

  void waitForUrlStartingWith(String prefix) {
    new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> d.getCurrentUrl().startsWith(prefix));
  }

  Cookie cookie(String name) {
    return driver.manage().getCookieNamed(name);
  }

  List<String> cookieNames() {
    return driver.manage().getCookies().stream().map(Cookie::getName).toList();
  }

  @Override
  public void close() {
    driver.quit();
  }
}
