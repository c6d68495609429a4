package dev.portalgateway.host.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoundedLabelsTest {
  @Test
  void valuesPastTheLimitAreOtherAndKnownOnesStayThemselves() {
    BoundedLabels labels = new BoundedLabels(3);
    assertThat(labels.label("a")).isEqualTo("a");
    assertThat(labels.label("b")).isEqualTo("b");
    assertThat(labels.label("c")).isEqualTo("c");
    assertThat(labels.label("d")).isEqualTo(BoundedLabels.OTHER);
    assertThat(labels.label("a")).isEqualTo("a");
    assertThat(labels.values()).containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void forgettingIdleValuesFreesTheirSlotsAndTellsWhichExceptThoseInUse() {
    BoundedLabels labels = new BoundedLabels(2);
    labels.label("a");
    labels.label("b");
    List<String> forgotten = new ArrayList<>();
    labels.forgetIdle(-1, v -> v.equals("b"), forgotten::add); // everything counts as idle
    assertThat(forgotten).containsExactly("a");
    assertThat(labels.label("c")).isEqualTo("c");
    assertThat(labels.label("d")).isEqualTo(BoundedLabels.OTHER);
  }
}
