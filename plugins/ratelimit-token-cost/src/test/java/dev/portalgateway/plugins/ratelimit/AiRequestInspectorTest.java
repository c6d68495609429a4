package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.plugins.ratelimit.AiRequestInspector.Api;
import dev.portalgateway.plugins.ratelimit.AiRequestInspector.Inspection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AiRequestInspectorTest {
  private static final String CHAT = "/v1/chat/completions";
  private static final String MESSAGES = "/v1/messages";
  private static final String USAGE_FIELD = ",\"stream_options\":{\"include_usage\":true}";

  private static Inspection inspect(String path, String body) {
    return AiRequestInspector.inspect(body.getBytes(StandardCharsets.UTF_8), path, true);
  }

  private static String rewritten(Inspection i) {
    return i.rewrittenBody() == null ? null : new String(i.rewrittenBody(), StandardCharsets.UTF_8);
  }

  // --- What is read ----------------------------------------------------------------------------------

  @Test
  void readsModelMaxTokensAndStreaming() {
    Inspection i = inspect(CHAT, """
        {"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"max_tokens":256,"stream":false}""");
    assertThat(i.api()).isEqualTo(Api.OPENAI_COMPLETIONS);
    assertThat(i.openAiCompletions()).isTrue();
    assertThat(i.model()).isEqualTo("gpt-4o");
    assertThat(i.maxTokens()).isEqualTo(256L);
    assertThat(i.streaming()).isFalse();
    assertThat(i.usageInjected()).isFalse();
    assertThat(i.rewrittenBody()).isNull();
    assertThat(i.bodyLength()).isEqualTo(i.bufferedBody().length);
  }

  @Test
  void maxTokensComesFromAnyOfItsNamesTakingTheLargest() {
    assertThat(inspect(CHAT, "{\"max_completion_tokens\":1000,\"messages\":[]}").maxTokens()).isEqualTo(1000L);
    assertThat(inspect("/v1/responses", "{\"max_output_tokens\":500,\"input\":\"hi\"}").maxTokens()).isEqualTo(500L);
    assertThat(inspect(CHAT, "{\"max_tokens\":10,\"max_completion_tokens\":20,\"messages\":[]}").maxTokens()).isEqualTo(20L);
    assertThat(inspect(CHAT, "{\"messages\":[]}").maxTokens()).isNull();
    assertThat(inspect(CHAT, "{\"max_tokens\":null,\"messages\":[]}").maxTokens()).isNull();
    assertThat(inspect(CHAT, "{\"max_tokens\":-5,\"messages\":[]}").maxTokens()).isNull();
    assertThat(inspect(CHAT, "{\"max_tokens\":12.5,\"messages\":[]}").maxTokens()).isNull();
    assertThat(inspect(CHAT, "{\"max_tokens\":\"100\",\"messages\":[]}").maxTokens()).isNull();
    assertThat(inspect(CHAT, "{\"max_tokens\":99999999999999999999999,\"messages\":[]}").maxTokens()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void aModelThatIsNotAStringIsNoModel() {
    assertThat(inspect(CHAT, "{\"model\":{\"name\":\"gpt-4o\"},\"messages\":[]}").model()).isNull();
    assertThat(inspect(CHAT, "{\"model\":null,\"messages\":[]}").model()).isNull();
  }

  @Test
  void onlyStreamTrueStreams() {
    assertThat(inspect(CHAT, "{\"stream\":\"true\",\"messages\":[]}").streaming()).isFalse();
    assertThat(inspect(CHAT, "{\"stream\":1,\"messages\":[]}").streaming()).isFalse();
    assertThat(inspect(MESSAGES, "{\"stream\":true,\"messages\":[]}").streaming()).isTrue();
  }

  @Test
  void bodiesWithoutMessagesOrPromptAreOtherJson() {
    Inspection embeddings = inspect("/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":\"hello\"}");
    assertThat(embeddings.api()).isEqualTo(Api.OTHER_JSON);
    assertThat(embeddings.model()).isEqualTo("text-embedding-3-small");
    Inspection responses = inspect("/v1/responses", "{\"model\":\"gpt-4.1\",\"input\":\"hi\",\"stream\":true}");
    assertThat(responses.api()).isEqualTo(Api.OTHER_JSON);
    assertThat(responses.usageInjected()).as("the Responses API always reports usage").isFalse();
    assertThat(inspect(CHAT, "{\"messages\":null,\"stream\":true}").api()).isEqualTo(Api.OTHER_JSON);
  }

  @Test
  void unreadableBodiesAreUnknownAndKeepTheirBytes() {
    for (String body : List.of("", "not json", "[{\"messages\":[]}]", "\"text\"", "{\"messages\":[", "{\"a\":1}{\"b\":2}",
        "{\"a\":1} trailing", "{\"a\":01}", "model=gpt-4o&stream=true")) {
      Inspection i = inspect(CHAT, body);
      assertThat(i.api()).as(body).isEqualTo(Api.UNKNOWN);
      assertThat(i.model()).as(body).isNull();
      assertThat(i.rewrittenBody()).as(body).isNull();
      assertThat(i.bufferedBody()).as(body).isEqualTo(body.getBytes(StandardCharsets.UTF_8));
    }
    assertThat(AiRequestInspector.inspect(null, CHAT, true).api()).isEqualTo(Api.UNKNOWN);
    Inspection unread = Inspection.unknown(1234);
    assertThat(unread.bodyLength()).isEqualTo(1234);
    assertThat(unread.bufferedBody()).isNull();
    assertThat(unread.usageInjected()).isFalse();
  }

  @Test
  void deeplyNestedJsonIsUnknownNotAnError() {
    String deep = "{\"messages\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
    assertThat(inspect(CHAT, deep).api()).isEqualTo(Api.UNKNOWN);
  }

  // --- OpenAI or Anthropic ---------------------------------------------------------------------------

  @Test
  void thePathDecidesWhenItNamesTheApi() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}";
    for (String path : List.of(CHAT, "/chat/completions", "/v1/completions", "/v1/chat/completions/",
        "/openai/deployments/gpt4o/chat/completions", "/v1beta/openai/chat/completions", "/v1/chat/completions?api-version=1")) {
      assertThat(inspect(path, body).api()).as(path).isEqualTo(Api.OPENAI_COMPLETIONS);
    }
    for (String path : List.of(MESSAGES, "/anthropic/v1/messages", "/v1/complete")) {
      assertThat(inspect(path, body).api()).as(path).isEqualTo(Api.ANTHROPIC_MESSAGES);
    }
    String anthropicLooking = "{\"anthropic_version\":\"2023-06-01\",\"system\":\"Be brief.\",\"messages\":[]}";
    assertThat(inspect(CHAT, anthropicLooking).api()).as("a recognised path wins over hints").isEqualTo(Api.OPENAI_COMPLETIONS);
  }

  @Test
  void onOtherPathsAnthropicOnlyFieldsDecide() {
    String bedrock = "/model/anthropic.claude-3-5-sonnet-20241022-v2:0/invoke-with-response-stream";
    assertThat(inspect(bedrock, "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":100,\"messages\":[],\"stream\":true}").api())
        .isEqualTo(Api.ANTHROPIC_MESSAGES);
    assertThat(inspect("/llm", "{\"model\":\"claude\",\"system\":\"Be brief.\",\"messages\":[],\"stream\":true}").api())
        .isEqualTo(Api.ANTHROPIC_MESSAGES);
    assertThat(inspect("/llm", "{\"model\":\"gpt-4o\",\"messages\":[],\"stream\":true}").api()).isEqualTo(Api.OPENAI_COMPLETIONS);
    assertThat(inspect(null, "{\"model\":\"gpt-4o\",\"prompt\":\"Say hi\",\"stream\":true}").api()).isEqualTo(Api.OPENAI_COMPLETIONS);
    assertThat(inspect("/", "{\"stream_options\":{},\"messages\":[],\"stream\":true}").api()).isEqualTo(Api.OPENAI_COMPLETIONS);
    assertThat(inspect("/", "{\"stream_options\":{},\"system\":\"x\",\"messages\":[],\"stream\":true}").api())
        .as("when hints disagree the body is left alone").isEqualTo(Api.ANTHROPIC_MESSAGES);
  }

  // --- Usage injection -------------------------------------------------------------------------------

  @Test
  void anOpenAiStreamGetsStreamOptionsAfterItsLastField() {
    String body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}";
    Inspection i = inspect(CHAT, body);
    assertThat(i.usageInjected()).isTrue();
    assertThat(rewritten(i)).isEqualTo(body.substring(0, body.length() - 1) + USAGE_FIELD + "}");
    assertThat(i.bufferedBody()).isEqualTo(body.getBytes(StandardCharsets.UTF_8));
    assertThat(i.bodyLength()).isEqualTo(body.length());
  }

  @Test
  void theInsertionKeepsLayoutFieldOrderNumbersAndEscapes() throws Exception {
    String body = """
        {
          "model": "gpt-4o",
          "temperature": 0.70000000000000000001,
          "seed": 12345678901234567890123,
          "messages": [{"role": "user", "content": "caf\\u00e9 – “quoted” \\"usage\\": {}"}],
          "stream": true,
          "n": 1e0
        }
        """;
    String out = rewritten(inspect(CHAT, body));
    assertThat(out).isEqualTo(body.replace("\"n\": 1e0\n}", "\"n\": 1e0" + USAGE_FIELD + "\n}"));
    JsonNode tree = new ObjectMapper().readTree(out);
    List<String> names = new ArrayList<>();
    tree.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("model", "temperature", "seed", "messages", "stream", "n", "stream_options");
  }

  @Test
  void existingStreamOptionsGetIncludeUsageInside() {
    String body = "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_obfuscation\":false}, \"user\":\"u\"}";
    assertThat(rewritten(inspect(CHAT, body)))
        .isEqualTo("{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_obfuscation\":false,\"include_usage\":true}, \"user\":\"u\"}");
    assertThat(rewritten(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{}}")))
        .isEqualTo("{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    assertThat(rewritten(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{ \n }}")))
        .isEqualTo("{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true \n }}");
    assertThat(rewritten(inspect(CHAT, "{\"stream_options\":{\"x\":{\"y\":[1,{}]}},\"messages\":[],\"stream\":true}")))
        .isEqualTo("{\"stream_options\":{\"x\":{\"y\":[1,{}]},\"include_usage\":true},\"messages\":[],\"stream\":true}");
  }

  @Test
  void nullStreamOptionsOrIncludeUsageAreFilledIn() {
    assertThat(rewritten(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":null}")))
        .isEqualTo("{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    assertThat(rewritten(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":null}}")))
        .isEqualTo("{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
  }

  @Test
  void theClientsOwnIncludeUsageIsRespected() {
    Inspection off = inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":false}}");
    assertThat(off.usageInjected()).isFalse();
    assertThat(off.rewrittenBody()).isNull();
    assertThat(off.streaming()).isTrue();
    Inspection on = inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    assertThat(on.usageInjected()).as("the client asked: the usage chunk is the client's").isFalse();
    assertThat(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}").usageInjected()).isFalse();
  }

  @Test
  void nothingElseIsRewritten() {
    String nonStreaming = "{\"model\":\"gpt-4o\",\"messages\":[],\"stream\":false}";
    assertThat(inspect(CHAT, nonStreaming).rewrittenBody()).as("not streaming").isNull();
    assertThat(inspect(CHAT, "{\"model\":\"gpt-4o\",\"messages\":[]}").rewrittenBody()).as("no stream field").isNull();
    String anthropic = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"messages\":[],\"stream\":true}";
    assertThat(inspect(MESSAGES, anthropic).rewrittenBody()).as("Anthropic").isNull();
    assertThat(inspect("/x", "{\"system\":\"s\",\"messages\":[],\"stream\":true}").rewrittenBody()).as("Anthropic by its fields").isNull();
    String streaming = "{\"model\":\"gpt-4o\",\"messages\":[],\"stream\":true}";
    assertThat(AiRequestInspector.inspect(streaming.getBytes(StandardCharsets.UTF_8), CHAT, false).rewrittenBody())
        .as("injection off").isNull();
    assertThat(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":\"on\"}").rewrittenBody())
        .as("stream_options of the wrong type").isNull();
    assertThat(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{},\"stream_options\":{}}").rewrittenBody())
        .as("repeated stream_options").isNull();
    assertThat(inspect(CHAT, "{\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":null,\"include_usage\":false}}")
        .rewrittenBody()).as("repeated include_usage").isNull();
  }

  @Test
  void aByteOrderMarkIsKeptInFront() {
    byte[] body = ("\uFEFF{\"messages\":[],\"stream\":true}").getBytes(StandardCharsets.UTF_8);
    Inspection i = AiRequestInspector.inspect(body, CHAT, true);
    assertThat(new String(i.rewrittenBody(), StandardCharsets.UTF_8))
        .isEqualTo("\uFEFF{\"messages\":[],\"stream\":true" + USAGE_FIELD + "}");
  }

  @Test
  void theRewrittenBodyIsValidJsonThatAsksForUsage() throws Exception {
    String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},"
        + "{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true,\"temperature\":0.2,\"tools\":[{\"type\":\"function\","
        + "\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]}";
    JsonNode tree = new ObjectMapper().readTree(inspect("/chat/completions", body).rewrittenBody());
    assertThat(tree.path("stream_options").path("include_usage").asBoolean()).isTrue();
    assertThat(tree.path("tools").get(0).path("function").path("name").asText()).isEqualTo("f");
  }
}
