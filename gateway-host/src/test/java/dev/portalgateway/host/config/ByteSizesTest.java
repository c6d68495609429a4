package dev.portalgateway.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizesTest {

  @ParameterizedTest(name = "{0} = {1} bytes")
  @CsvSource(delimiter = '|', value = {
      "0        | 0",
      "65536    | 65536",
      "100b     | 100",
      "100B     | 100",
      "64KiB    | 65536",
      "64kib    | 65536",
      "64K      | 65536",
      "10MiB    | 10485760",
      "10m      | 10485760",
      "1GiB     | 1073741824",
      "1g       | 1073741824",
      "64KB     | 64000",
      "10MB     | 10000000",
      "1GB      | 1000000000",
      "'10 MiB' | 10485760",
      "' 42 '   | 42",
  })
  void parsesEveryUnit(String text, long bytes) {
    assertThat(ByteSizes.parse(text)).isEqualTo(bytes);
  }

  @Test
  void parsesTheLargestLong() {
    assertThat(ByteSizes.parse(Long.toString(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
  }

  @ParameterizedTest(name = "rejects \"{0}\"")
  @ValueSource(strings = {
      "", "  ", "KiB", "-1", "+1", "1.5MiB", "10 parsecs", "10TiB", "10 bytes", "ten", "10MiBs", "0x10",
      "99999999999999999999",
  })
  void rejectsWhatIsNotASizeWithAHelpfulMessage(String text) {
    assertThatThrownBy(() -> ByteSizes.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'")
        .hasMessageContaining("64KiB");
  }

  @Test
  void rejectsASizeTooLargeForALongWithAHelpfulMessage() {
    assertThatThrownBy(() -> ByteSizes.parse("9999999999GiB"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("9999999999GiB");
  }
}
