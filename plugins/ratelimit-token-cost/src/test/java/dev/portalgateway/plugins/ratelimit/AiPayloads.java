package dev.portalgateway.plugins.ratelimit;

/**
 * Response bodies in the shapes OpenAI and Anthropic send them (ids, fields and order as the
 * APIs answer; texts shortened), for the usage meter's tests.
 */
final class AiPayloads {
  private AiPayloads() {}

  // --- OpenAI Chat Completions -----------------------------------------------------------------

  static final String OPENAI_JSON = """
      {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "choices": [
          {
            "index": 0,
            "message": {
              "role": "assistant",
              "content": "The image shows a wooden boardwalk extending through a lush green marshland.",
              "refusal": null,
              "annotations": []
            },
            "logprobs": null,
            "finish_reason": "stop"
          }
        ],
        "usage": {
          "prompt_tokens": 1117,
          "completion_tokens": 46,
          "total_tokens": 1163,
          "prompt_tokens_details": {
            "cached_tokens": 0,
            "audio_tokens": 0
          },
          "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
          }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035"
      }
      """;

  static final String OPENAI_ROLE_EVENT = "data: {\"id\":\"chatcmpl-AzK3o5bO2cfyTkxpoDyZBx7kNoVwP\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1739283012,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_72ed7ab54c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
      + "\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
  static final String OPENAI_HELLO_EVENT = "data: {\"id\":\"chatcmpl-AzK3o5bO2cfyTkxpoDyZBx7kNoVwP\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1739283012,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_72ed7ab54c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},"
      + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
  static final String OPENAI_BANG_EVENT = "data: {\"id\":\"chatcmpl-AzK3o5bO2cfyTkxpoDyZBx7kNoVwP\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1739283012,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_72ed7ab54c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},"
      + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
  static final String OPENAI_STOP_EVENT = "data: {\"id\":\"chatcmpl-AzK3o5bO2cfyTkxpoDyZBx7kNoVwP\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1739283012,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_72ed7ab54c\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
      + "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
  /** The chunk {@code stream_options.include_usage} adds: no choices, the usage. */
  static final String OPENAI_USAGE_EVENT = "data: {\"id\":\"chatcmpl-AzK3o5bO2cfyTkxpoDyZBx7kNoVwP\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1739283012,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
      + "\"system_fingerprint\":\"fp_72ed7ab54c\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,"
      + "\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
      + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
      + "\"rejected_prediction_tokens\":0}}}\n\n";
  static final String OPENAI_DONE_EVENT = "data: [DONE]\n\n";

  /** A stream with {@code include_usage}: 19 prompt tokens, 10 completion tokens. */
  static final String OPENAI_SSE = OPENAI_ROLE_EVENT + OPENAI_HELLO_EVENT + OPENAI_BANG_EVENT + OPENAI_STOP_EVENT
      + OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT;
  /** {@link #OPENAI_SSE} as the client sees it when the gateway asked for the usage. */
  static final String OPENAI_SSE_WITHOUT_USAGE = OPENAI_ROLE_EVENT + OPENAI_HELLO_EVENT + OPENAI_BANG_EVENT
      + OPENAI_STOP_EVENT + OPENAI_DONE_EVENT;

  // --- Anthropic Messages --------------------------------------------------------------------------

  static final String ANTHROPIC_JSON = """
      {"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",\
      "content":[{"type":"text","text":"Hi! My name is Claude."}],"stop_reason":"end_turn","stop_sequence":null,\
      "usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":503,\
      "service_tier":"standard"}}""";

  /** A stream: 472 input tokens, 12 output tokens (the first count, 2, is superseded). */
  static final String ANTHROPIC_SSE = """
      event: message_start
      data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2,"service_tier":"standard"}}}

      event: content_block_start
      data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

      event: ping
      data: {"type": "ping"}

      event: content_block_delta
      data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

      event: content_block_delta
      data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"! How can I help you today?"}}

      event: content_block_stop
      data: {"type":"content_block_stop","index":0}

      event: message_delta
      data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}

      event: message_stop
      data: {"type":"message_stop"}

      """;

  /** The first event of {@link #ANTHROPIC_SSE}: the input count, and an output count of 2. */
  static final String ANTHROPIC_START_EVENT = ANTHROPIC_SSE.substring(0, ANTHROPIC_SSE.indexOf("\n\n") + 2);

  /** A stream with prompt caching, where the newer API repeats the input counts in message_delta. */
  static final String ANTHROPIC_CACHED_SSE = """
      event: message_start
      data: {"type":"message_start","message":{"id":"msg_01Cached","type":"message","role":"assistant","content":[],"model":"claude-opus-4-1-20250805","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":1}}}

      event: content_block_delta
      data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Cached."}}

      event: message_delta
      data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":85}}

      event: message_stop
      data: {"type":"message_stop"}

      """;

  // --- OpenAI Responses ----------------------------------------------------------------------------

  static final String RESPONSES_JSON = """
      {"id":"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b","object":"response","created_at":1741476542,\
      "status":"completed","model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_67ccd2bf17f0819081ff3bb2cf6508e6",\
      "status":"completed","role":"assistant","content":[{"type":"output_text","text":"In a peaceful grove...","annotations":[]}]}],\
      "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,\
      "output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}""";

  static final String RESPONSES_SSE = """
      event: response.created
      data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1741290958,"status":"in_progress","model":"gpt-4.1-2025-04-14","output":[],"usage":null}}

      event: response.output_text.delta
      data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}

      event: response.completed
      data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","object":"response","created_at":1741290958,"status":"completed","model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":37,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48}}}

      """;
}
