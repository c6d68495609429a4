package dev.portalgateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadersTest {

  private final Headers headers = Headers.of(
      "Content-Type", "text/plain",
      "X-Trace", "a",
      "Accept", "*/*",
      "x-trace", "b",
      "X-TRACE", "c");

  @Test
  void firstIgnoresCaseAndReturnsTheEarliestValue() {
    assertThat(headers.first("content-type")).isEqualTo("text/plain");
    assertThat(headers.first("CONTENT-TYPE")).isEqualTo("text/plain");
    assertThat(headers.first("x-trace")).isEqualTo("a");
    assertThat(headers.first("Missing")).isNull();
  }

  @Test
  void allReturnsEveryValueInOrderWhateverTheCase() {
    assertThat(headers.all("X-Trace")).containsExactly("a", "b", "c");
    assertThat(headers.all("x-TRACE")).containsExactly("a", "b", "c");
    assertThat(headers.all("Missing")).isEmpty();
  }

  @Test
  void allIsUnmodifiable() {
    assertThatThrownBy(() -> headers.all("X-Trace").add("d"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void containsIgnoresCase() {
    assertThat(headers.contains("accept")).isTrue();
    assertThat(headers.contains("ACCEPT")).isTrue();
    assertThat(headers.contains("Authorization")).isFalse();
  }

  @Test
  void keepsOrderAndRepeatsAsReceived() {
    List<String> seen = new ArrayList<>();
    headers.forEach((n, v) -> seen.add(n + "=" + v));
    assertThat(seen).containsExactly(
        "Content-Type=text/plain", "X-Trace=a", "Accept=*/*", "x-trace=b", "X-TRACE=c");
    assertThat(headers.size()).isEqualTo(5);
    assertThat(headers.name(3)).isEqualTo("x-trace");
    assertThat(headers.value(3)).isEqualTo("b");
  }

  @Test
  void namesAreDistinctInFirstSeenOrderAndFirstSpelling() {
    assertThat(headers.names()).containsExactly("Content-Type", "X-Trace", "Accept");
  }

  @Test
  void withReplacesEveryFieldOfThatNameByOne() {
    Headers changed = headers.with("x-trace", "z");

    assertThat(changed.all("X-Trace")).containsExactly("z");
    assertThat(changed.first("Content-Type")).isEqualTo("text/plain");
    assertThat(changed.first("Accept")).isEqualTo("*/*");
    assertThat(changed.size()).isEqualTo(3);
    // The original is immutable.
    assertThat(headers.all("X-Trace")).containsExactly("a", "b", "c");
  }

  @Test
  void withAddsAFieldThatWasAbsent() {
    Headers changed = headers.with("Authorization", "Bearer t");
    assertThat(changed.first("authorization")).isEqualTo("Bearer t");
    assertThat(changed.size()).isEqualTo(6);
  }

  @Test
  void plusAddsAfterTheOthersAndKeepsExistingValues() {
    Headers changed = headers.plus("x-trace", "d");

    assertThat(changed.all("X-Trace")).containsExactly("a", "b", "c", "d");
    assertThat(changed.name(changed.size() - 1)).isEqualTo("x-trace");
    assertThat(headers.all("X-Trace")).containsExactly("a", "b", "c");
  }

  @Test
  void withoutRemovesEveryFieldOfThatNameWhateverTheCase() {
    Headers changed = headers.without("X-TRACE");

    assertThat(changed.contains("x-trace")).isFalse();
    assertThat(changed.names()).containsExactly("Content-Type", "Accept");
    assertThat(headers.contains("x-trace")).isTrue();
  }

  @Test
  void withoutAnAbsentFieldReturnsTheSameHeaders() {
    assertThat(headers.without("Missing")).isSameAs(headers);
  }

  @Test
  void builderSetReplacesAndRemoveRemoves() {
    Headers built = Headers.builder()
        .add("A", "1")
        .add("B", "2")
        .add("a", "3")
        .set("A", "4")
        .add("C", "5")
        .remove("b")
        .build();

    assertThat(built.all("a")).containsExactly("4");
    assertThat(built.contains("B")).isFalse();
    assertThat(built.names()).containsExactly("A", "C");
  }

  @Test
  void builderFirstSeesWhatWasAddedSoFar() {
    Headers.Builder b = Headers.builder().add("X-One", "1").add("x-one", "2");
    assertThat(b.first("X-ONE")).isEqualTo("1");
    assertThat(b.remove("X-One").first("x-one")).isNull();
  }

  @Test
  void builderGrowsPastItsInitialCapacity() {
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < 100; i++) {
      b.add("H" + i, Integer.toString(i));
    }
    Headers built = b.build();
    assertThat(built.size()).isEqualTo(100);
    assertThat(built.first("h99")).isEqualTo("99");
  }

  @Test
  void toBuilderStartsFromTheseHeadersWithoutChangingThem() {
    Headers changed = headers.toBuilder().add("New", "1").remove("Accept").build();

    assertThat(changed.contains("New")).isTrue();
    assertThat(changed.contains("Accept")).isFalse();
    assertThat(headers.contains("New")).isFalse();
    assertThat(headers.contains("Accept")).isTrue();
  }

  @Test
  void equalHeadersHaveTheSameFieldsInTheSameOrder() {
    Headers same = Headers.builder()
        .add("Content-Type", "text/plain")
        .add("X-Trace", "a")
        .add("Accept", "*/*")
        .add("x-trace", "b")
        .add("X-TRACE", "c")
        .build();

    assertThat(same).isEqualTo(headers).hasSameHashCodeAs(headers);
    assertThat(Headers.of("A", "1", "B", "2")).isNotEqualTo(Headers.of("B", "2", "A", "1"));
    assertThat(Headers.of("A", "1")).isNotEqualTo(Headers.of("A", "2"));
    assertThat(Headers.of("A", "1")).isNotEqualTo(Headers.of("A", "1", "A", "1"));
  }

  @Test
  void emptyHeadersHaveNoFields() {
    assertThat(Headers.empty().size()).isZero();
    assertThat(Headers.empty().first("A")).isNull();
    assertThat(Headers.of()).isEqualTo(Headers.empty());
    assertThat(Headers.builder().add("A", "1").remove("A").build()).isEqualTo(Headers.empty());
  }

  @Test
  void rejectsOddArgumentsEmptyNamesAndNullValues() {
    assertThatThrownBy(() -> Headers.of("A", "1", "B"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("odd");
    assertThatThrownBy(() -> Headers.of("", "1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Headers.builder().add(null, "1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Headers.builder().add("A", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("A");
  }

  @org.junit.jupiter.api.Test
  void valuesThatWouldStartANewHeaderLineAndNamesThatAreNotTokensAreRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Headers.of("Location", "/x\r\nSet-Cookie: a=b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Location");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Headers.of("X-A", "a\nb"))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Headers.of("Bad Name", "v"))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThat(Headers.of("X-Ok", "tab\tand \u00e9 are fine").first("x-ok"))
        .isEqualTo("tab\tand \u00e9 are fine");
  }
}
