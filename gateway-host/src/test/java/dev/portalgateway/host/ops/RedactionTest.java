package dev.portalgateway.host.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedactionTest {

  @ParameterizedTest(name = "{0} is redacted")
  @ValueSource(strings = {
      "api_key", "apikey", "key", "token", "access_token", "id_token", "refresh_token", "code",
      "client_secret", "password", "secret", "sig", "signature", "state", "API_KEY", "Access_Token",
  })
  void credentialParametersAreRedacted(String name) {
    assertThat(Redaction.query(name + "=s3cr3t")).isEqualTo(name + "=REDACTED");
  }

  @Test
  void otherParametersAreUntouchedAndOrderIsKept() {
    assertThat(Redaction.query("page=2&api_key=abc&q=hello%20world&token=xyz&sort=asc"))
        .isEqualTo("page=2&api_key=REDACTED&q=hello%20world&token=REDACTED&sort=asc");
  }

  @Test
  void everyOccurrenceIsRedacted() {
    assertThat(Redaction.query("code=1&code=2")).isEqualTo("code=REDACTED&code=REDACTED");
  }

  @Test
  void namesThatOnlyContainASensitiveWordAreKept() {
    assertThat(Redaction.query("monkey=1&tokens=2&keyboard=3&x_api_key_id=4"))
        .isEqualTo("monkey=1&tokens=2&keyboard=3&x_api_key_id=4");
  }

  @Test
  void aParameterWithoutValueIsKept() {
    assertThat(Redaction.query("token&a=1")).isEqualTo("token&a=1");
  }

  @Test
  void anEmptyValueIsStillRedacted() {
    assertThat(Redaction.query("token=&a=1")).isEqualTo("token=REDACTED&a=1");
  }

  @Test
  void emptyPairsAndOddSeparatorsArePreserved() {
    assertThat(Redaction.query("a=1&&token=x&")).isEqualTo("a=1&&token=REDACTED&");
    assertThat(Redaction.query("&token=x")).isEqualTo("&token=REDACTED");
    assertThat(Redaction.query("a=1=2&token=x=y")).isEqualTo("a=1=2&token=REDACTED");
  }

  @Test
  void emptyAndMissingQueriesAreReturnedAsGiven() {
    assertThat(Redaction.query(null)).isNull();
    assertThat(Redaction.query("")).isEmpty();
    assertThat(Redaction.query("a=1")).isEqualTo("a=1");
  }

  @Test
  void percentEncodedCredentialNamesAreRedacted() {
    assertThat(Redaction.query("api%5Fkey=s3cr3t&access%5ftoken=t0k")).doesNotContain("s3cr3t", "t0k");
  }
}
