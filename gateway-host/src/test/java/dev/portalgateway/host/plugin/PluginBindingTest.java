package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which of a plugin's filters serves a route: glob matching of route keys, and the precedence
 * among keys (exact name, then more literal characters, then configuration order). The
 * configuration side of it (a listed route turns a plugin on there) is in {@link PerRouteConfigTest}.
 */
class PluginBindingTest {

  /** A real filter that passes requests on, named after the route key it stands for. */
  private static ActiveFilter filter(String key) {
    return new ActiveFilter("p", Phase.LIMIT, (request, chain) -> chain.proceed(request), PluginBindingTest.class
        .getClassLoader(), () -> {}, Map.of(), Map.of(), key);
  }

  private static PluginBinding binding(ActiveFilter fallback, String... keys) {
    List<PluginBinding.RouteOverride> overrides = new ArrayList<>();
    for (String key : keys) {
      overrides.add(new PluginBinding.RouteOverride(key, filter(key)));
    }
    return new PluginBinding("p", Phase.LIMIT, fallback, overrides);
  }

  private static String keyFor(PluginBinding binding, String route) {
    ActiveFilter f = binding.forRoute(route);
    return f == null ? "<off>" : f.route() == null ? "<default>" : f.route();
  }

  @ParameterizedTest(name = "''{0}'' matches ''{1}'': {2}")
  @CsvSource(delimiter = '|', value = {
      "*        | ''         | true",
      "*        | docs       | true",
      "**       | ''         | true",
      "api-*    | api-       | true",
      "api-*    | api-v1     | true",
      "api-*    | api        | false",
      "api-*    | xapi-v1    | false",
      "*-prod   | eu-prod    | true",
      "*-prod   | -prod      | true",
      "*-prod   | eu-prod-2  | false",
      "a*b*c    | abc        | true",
      "a*b*c    | a-x-b-y-c  | true",
      "a*b*c    | acb        | false",
      "a**b     | ab         | true",
      "*a*      | banana     | true",
      "*a*      | xyz        | false",
      "a*a      | a          | false",
      "a*a      | aa         | true",
      "*ab      | aab        | true",
      "a*ab     | aaab       | true",
      "a*ab     | aaba       | false",
      "docs     | docs       | true",
      "docs     | docs2      | false",
      "docs     | doc        | false",
      "docs     | ''         | false",
      "d*s      | docs       | true",
      "d*s      | Docs       | false",
  })
  void aStarStandsForAnyRunOfCharactersTheEmptyOneIncluded(String pattern, String name, boolean matches) {
    assertThat(PluginBinding.matches(pattern, name)).isEqualTo(matches);
  }

  @Test
  void anExactNameBeatsEveryPatternWhereverItIsListed() {
    // The pattern lists first and has as many literal characters as the name.
    PluginBinding b = binding(filter(null), "api*v1", "api-*", "*", "api-v1");

    assertThat(keyFor(b, "api-v1")).isEqualTo("api-v1");
    assertThat(keyFor(b, "api-v2")).isEqualTo("api-*");
  }

  @Test
  void amongPatternsMoreLiteralCharactersWinWhateverTheOrder() {
    PluginBinding b = binding(filter(null), "*", "a*", "api-*", "api-v*", "*-v1");

    assertThat(keyFor(b, "api-v1")).isEqualTo("api-v*"); // 5 literal characters beat 4 and 3
    assertThat(keyFor(b, "api-x")).isEqualTo("api-*");
    assertThat(keyFor(b, "app")).isEqualTo("a*");
    assertThat(keyFor(b, "eu-v1")).isEqualTo("*-v1");
    assertThat(keyFor(b, "zzz")).isEqualTo("*");
  }

  @Test
  void equallySpecificPatternsKeepTheirConfigurationOrder() {
    assertThat(keyFor(binding(null, "ab*", "*yz"), "abyz")).isEqualTo("ab*");
    assertThat(keyFor(binding(null, "*yz", "ab*"), "abyz")).isEqualTo("*yz");
    // Only one matches: order does not matter then.
    assertThat(keyFor(binding(null, "*yz", "ab*"), "abc")).isEqualTo("ab*");
  }

  @Test
  void aNameNoKeyMatchesGetsTheDefaultFilterOrNone() {
    assertThat(keyFor(binding(filter(null), "docs", "api-*"), "other")).isEqualTo("<default>");
    assertThat(keyFor(binding(null, "docs", "api-*"), "other")).isEqualTo("<off>");
  }

  @Test
  void aKeyWithoutFilterTurnsThePluginOffForItsRoutesEvenWithADefault() {
    PluginBinding b = new PluginBinding("p", Phase.LIMIT, filter(null), List.of(
        new PluginBinding.RouteOverride("hooks", null),
        new PluginBinding.RouteOverride("internal-*", null),
        new PluginBinding.RouteOverride("internal-docs", filter("internal-docs"))));

    assertThat(keyFor(b, "hooks")).isEqualTo("<off>");
    assertThat(keyFor(b, "internal-x")).isEqualTo("<off>");
    assertThat(keyFor(b, "internal-docs")).isEqualTo("internal-docs");
    assertThat(keyFor(b, "docs")).isEqualTo("<default>");
  }

  @Test
  void itSaysWhatKindsOfKeysItHas() {
    PluginBinding none = binding(filter(null));
    PluginBinding exact = binding(filter(null), "docs", "hooks");
    PluginBinding patterns = binding(filter(null), "docs", "api-*");

    assertThat(none.hasRouteKeys()).isFalse();
    assertThat(none.hasPatterns()).isFalse();
    assertThat(exact.hasRouteKeys()).isTrue();
    assertThat(exact.hasPatterns()).isFalse();
    assertThat(exact.exactRoutes()).containsExactlyInAnyOrder("docs", "hooks");
    assertThat(patterns.hasPatterns()).isTrue();
    assertThat(patterns.exactRoutes()).containsExactly("docs");
  }
}
