package dev.portalgateway.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest(name = "{0} = {1} ms")
  @CsvSource(delimiter = '|', value = {
      "500ms   | 500",
      "0ms     | 0",
      "30s     | 30000",
      "1.5s    | 1500",
      "5m      | 300000",
      "2h      | 7200000",
      "7d      | 604800000",
      "0.5d    | 43200000",
      "30S     | 30000",
      "5M      | 300000",
      "250MS   | 250",
      "'5 m'   | 300000",
      "' 10s ' | 10000",
  })
  void parsesEveryUnit(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "bare {0} is seconds")
  @CsvSource(delimiter = '|', value = {
      "30   | 30000",
      "0    | 0",
      "2.25 | 2250",
  })
  void aBareNumberIsSeconds(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "ISO {0}")
  @CsvSource(delimiter = '|', value = {
      "PT30S       | 30000",
      "pt1m30s     | 90000",
      "PT0.5S      | 500",
      "P1D         | 86400000",
      "P1DT2H      | 93600000",
  })
  void parsesIso8601(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "rejects \"{0}\"")
  @ValueSource(strings = {
      "", "   ", "s", "ms", "5 parsecs", "5sec", "5 minutes", "-5s", "+5s", "1e3s", ".", "..s", "1.2.3s",
      "five", "5s5", "P", "PT", "P1W", "Pfoo", "5w", "5y",
  })
  void rejectsWhatIsNotADurationWithAHelpfulMessage(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'")
        .hasMessageContaining("500ms")
        .hasMessageContaining("30s");
  }

  @ParameterizedTest(name = "{0} formats as {1}")
  @CsvSource(delimiter = '|', value = {
      "0         | 0s",
      "1500      | 1500ms",
      "30000     | 30s",
      "90000     | 90s",
      "300000    | 5m",
      "7200000   | 2h",
      "604800000 | 7d",
      "1         | 1ms",
  })
  void formatWritesTheLargestWholeUnitAndParsesBack(long millis, String text) {
    Duration d = Duration.ofMillis(millis);
    assertThat(Durations.format(d)).isEqualTo(text);
    assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
  }
}
