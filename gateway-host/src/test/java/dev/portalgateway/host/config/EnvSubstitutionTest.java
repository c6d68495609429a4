package dev.portalgateway.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {
  private final Map<String, String> vars = Map.of(
      "HOST", "10.0.0.5",
      "PORT", "8443",
      "EMPTY", "",
      "SECRET", "a: b\n- c # not yaml");
  private final EnvSubstitution env = new EnvSubstitution(vars::get);

  private JsonNode substituted(String yaml) throws ConfigException {
    JsonNode tree = ConfigBinder.parseYaml(yaml, "test");
    env.apply(tree);
    return tree;
  }

  @Test
  void replacesAReference() throws ConfigException {
    assertThat(env.substitute("${HOST}", "p")).isEqualTo("10.0.0.5");
  }

  @Test
  void replacesSeveralReferencesAmongText() throws ConfigException {
    assertThat(env.substitute("http://${HOST}:${PORT}/x", "p")).isEqualTo("http://10.0.0.5:8443/x");
  }

  @Test
  void textWithoutReferencesIsUnchanged() throws ConfigException {
    assertThat(env.substitute("plain $ text $HOST {x}", "p")).isEqualTo("plain $ text $HOST {x}");
  }

  @Test
  void aSetVariableWinsOverTheDefault() throws ConfigException {
    assertThat(env.substitute("${PORT:-80}", "p")).isEqualTo("8443");
  }

  @Test
  void anUnsetVariableTakesTheDefault() throws ConfigException {
    assertThat(env.substitute("${NOPE:-fallback}", "p")).isEqualTo("fallback");
    assertThat(env.substitute("${NOPE:-}", "p")).isEmpty();
    assertThat(env.substitute("${NOPE:-a:-b}", "p")).isEqualTo("a:-b");
  }

  @Test
  void anEmptyVariableTakesTheDefault() throws ConfigException {
    assertThat(env.substitute("${EMPTY:-fallback}", "p")).isEqualTo("fallback");
  }

  @Test
  void anEmptyVariableWithoutDefaultIsEmpty() throws ConfigException {
    assertThat(env.substitute("[${EMPTY}]", "p")).isEqualTo("[]");
  }

  @Test
  void doubleDollarWritesALiteralReference() throws ConfigException {
    assertThat(env.substitute("$${HOST}", "p")).isEqualTo("${HOST}");
    assertThat(env.substitute("a$${NOPE}b ${HOST}", "p")).isEqualTo("a${NOPE}b 10.0.0.5");
  }

  @Test
  void anUnsetVariableWithoutDefaultNamesTheKeyPathAndTheVariable() {
    assertThatThrownBy(() -> substituted("server:\n  listen: \"${LISTEN_ADDR}\"\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("server.listen:")
        .hasMessageContaining("LISTEN_ADDR")
        .hasMessageContaining("${LISTEN_ADDR:-default}");
  }

  @Test
  void anUnclosedReferenceIsAnError() {
    assertThatThrownBy(() -> env.substitute("x${HOST", "server.listen"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("server.listen:")
        .hasMessageContaining("not closed")
        .hasMessageContaining("$${");
  }

  @Test
  void aReferenceThatIsNotAVariableNameIsAnError() {
    assertThatThrownBy(() -> env.substitute("${1BAD}", "a.b"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("a.b:")
        .hasMessageContaining("${1BAD}");
    assertThatThrownBy(() -> env.substitute("${}", "a.b")).isInstanceOf(ConfigException.class);
  }

  @Test
  void substitutesInNestedMappingsAndLists() throws ConfigException {
    JsonNode tree = substituted("""
        server:
          listen: "${HOST}:${PORT}"
          trusted_proxies: ["127.0.0.1/32", "${HOST}/32"]
        upstreams:
          a: "http://${HOST}"
          b:
            url: "http://${NOPE:-localhost}:1"
        lists:
          - name: "${PORT}"
        """);

    assertThat(tree.at("/server/listen").textValue()).isEqualTo("10.0.0.5:8443");
    assertThat(tree.at("/server/trusted_proxies/0").textValue()).isEqualTo("127.0.0.1/32");
    assertThat(tree.at("/server/trusted_proxies/1").textValue()).isEqualTo("10.0.0.5/32");
    assertThat(tree.at("/upstreams/a").textValue()).isEqualTo("http://10.0.0.5");
    assertThat(tree.at("/upstreams/b/url").textValue()).isEqualTo("http://localhost:1");
    assertThat(tree.at("/lists/0/name").textValue()).isEqualTo("8443");
  }

  @Test
  void aSecretWithYamlSyntaxStaysOneString() throws ConfigException {
    JsonNode tree = substituted("plugins:\n  auth:\n    key: \"${SECRET}\"\n    other: 1\n");

    assertThat(tree.at("/plugins/auth/key").textValue()).isEqualTo("a: b\n- c # not yaml");
    assertThat(tree.at("/plugins/auth/other").intValue()).isEqualTo(1);
    assertThat(tree.at("/plugins/auth").size()).isEqualTo(2);
  }

  @Test
  void nonStringValuesAndKeysAreLeftAlone() throws ConfigException {
    JsonNode tree = substituted("a: 5\nb: true\nc: null\n\"${HOST}\": x\n");

    assertThat(tree.get("a").intValue()).isEqualTo(5);
    assertThat(tree.get("b").booleanValue()).isTrue();
    assertThat(tree.get("c").isNull()).isTrue();
    assertThat(tree.has("${HOST}")).isTrue();
  }

  @Test
  void errorInAMappingNamesItsKeyPath() {
    assertThatThrownBy(() -> substituted("upstreams:\n  a: \"http://${UPSTREAM_A}\"\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("upstreams.a:")
        .hasMessageContaining("UPSTREAM_A");
  }

  @Test
  void errorInAListNamesTheIndex() {
    assertThatThrownBy(() -> substituted("x:\n  - ok\n  - \"${MISSING_ITEM}\"\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("x[1]:")
        .hasMessageContaining("MISSING_ITEM");
  }

  @Test
  void errorInAMappingInsideAListNamesThePath() {
    assertThatThrownBy(() -> substituted("x:\n  - name: ok\n  - name: \"${MISSING_NAME}\"\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("x[1].name:")
        .hasMessageContaining("MISSING_NAME");
  }
}
