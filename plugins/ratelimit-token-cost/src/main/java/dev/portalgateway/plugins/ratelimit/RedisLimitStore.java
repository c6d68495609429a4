package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.redis.RedisClient;
import dev.portalgateway.redis.CircuitBreaker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Counters in Redis, shared by every gateway replica that uses the same server and key prefix.
 *
 * <p>Each operation is one Lua script, so it is atomic in Redis whatever the number of replicas,
 * and costs one round trip ({@code EVALSHA}; {@code EVAL} when the server does not have the script
 * yet, as after a restart). The scripts read the time with {@code TIME}, so all replicas share
 * Redis's clock instead of each trusting its own; Redis replicates the effects of such scripts
 * (the default since 5.0). Needs Redis 6.0 or newer ({@code SET ... KEEPTTL}). Keys:
 *
 * <ul>
 *   <li>bucket: {@code <prefix><key>}, a hash {@code tokens} (a float), {@code ts} (Redis time,
 *       microseconds), expiring when the bucket would be full again plus a margin (an absent
 *       bucket is a full one, so nothing is lost);
 *   <li>budget window: {@code <prefix><key>:<window start, epoch ms>}, an integer, expiring a
 *       margin after the window ends. Use one window length per key: two lengths whose windows
 *       start at the same instant would share a counter.
 * </ul>
 *
 * <p>Thread-safe. Connections are opened on first use, so a gateway starts while Redis is down.
 * Every call ends within the timeouts of {@link RedisSettings} or throws
 * {@link StoreUnavailableException}; right after a failure, calls throw at once for a short
 * cool-down, then one call tries again (see {@link CircuitBreaker}). Logging and the failure policy
 * are the caller's.
 */
final class RedisLimitStore implements LimitStore {
  /** How long calls fail fast after Redis failed. Short: Redis restarts and failovers take seconds. */
  static final Duration DEFAULT_BREAKER_COOLDOWN = Duration.ofSeconds(1);
  /** Kept past a bucket's refill and a window's end, so that clock steps and late settles find the key. */
  private static final long MARGIN_MILLIS = 2_000;

  /**
   * KEYS[1..n] the buckets; ARGV[1] margin (ms), then rate (tokens/s) and burst of each bucket.
   * Refills each by Redis time elapsed; takes a token from every one only if every one has a token
   * (1e-9 absorbs float rounding, so 0.9999999999 counts as 1). Returns, per bucket, {had a token
   * 0|1, whole tokens left, µs until full, µs until a token when it had none}.
   */
  private static final Script TAKE_ALL = new Script("""
      local time = redis.call('TIME')
      local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
      local margin = tonumber(ARGV[1])
      local tokens = {}
      local all = true
      for i = 1, #KEYS do
        local burst = tonumber(ARGV[2 * i + 1])
        local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
        local t = tonumber(state[1])
        local ts = tonumber(state[2])
        if t == nil or ts == nil then
          t = burst
        elseif now > ts then
          t = math.min(burst, t + (now - ts) * tonumber(ARGV[2 * i]) / 1000000)
        else
          t = math.min(burst, t)
        end
        tokens[i] = t
        if t < 1 - 1e-9 then
          all = false
        end
      end
      local out = {}
      for i = 1, #KEYS do
        local rate = tonumber(ARGV[2 * i])
        local burst = tonumber(ARGV[2 * i + 1])
        local t = tokens[i]
        local had = 0
        local retry = 0
        if t >= 1 - 1e-9 then
          had = 1
          if all then
            t = math.max(0, t - 1)
          end
        else
          retry = math.min(1e15, math.ceil((1 - t) * 1000000 / rate))
        end
        local full = math.min(1e15, math.ceil((burst - t) * 1000000 / rate))
        redis.call('HSET', KEYS[i], 'tokens', t, 'ts', now)
        redis.call('PEXPIRE', KEYS[i], string.format('%.0f', math.ceil(full / 1000) + margin))
        out[4 * i - 3] = had
        out[4 * i - 2] = math.floor(t + 1e-9)
        out[4 * i - 1] = full
        out[4 * i] = retry
      end
      return out
      """);

  /**
   * KEYS[1] the budget without its window; ARGV window (ms), limit, amount, margin (ms). Finds the
   * current window by Redis time and adds the amount only if the counter stays within the limit.
   * Returns {allowed 0|1, counter, window start (epoch ms), ms until the window ends}.
   */
  private static final Script RESERVE = new Script("""
      local window = tonumber(ARGV[1])
      local time = redis.call('TIME')
      local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      local start = now - now % window
      local key = KEYS[1] .. ':' .. string.format('%.0f', start)
      local used = tonumber(redis.call('GET', key) or '0')
      local allowed = 0
      if used + tonumber(ARGV[3]) <= tonumber(ARGV[2]) then
        used = redis.call('INCRBY', key, ARGV[3])
        redis.call('PEXPIRE', key, string.format('%.0f', start + window - now + tonumber(ARGV[4])))
        allowed = 1
      end
      return {allowed, used, start, start + window - now}
      """);

  /**
   * KEYS[1] one window's counter; ARGV delta, window end (epoch ms), margin (ms). Adds the delta,
   * clamping at 0, keeping the expiry; creates the counter only for a positive delta in a window
   * that has not ended. Returns 1 if it changed a counter, else 0.
   */
  private static final Script SETTLE = new Script("""
      local current = redis.call('GET', KEYS[1])
      if current then
        if tonumber(current) + tonumber(ARGV[1]) < 0 then
          redis.call('SET', KEYS[1], '0', 'KEEPTTL')
        else
          redis.call('INCRBY', KEYS[1], ARGV[1])
        end
        return 1
      end
      if tonumber(ARGV[1]) <= 0 then
        return 0
      end
      local time = redis.call('TIME')
      local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      local left = tonumber(ARGV[2]) - now
      if left <= 0 then
        return 0
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', string.format('%.0f', left + tonumber(ARGV[3])))
      return 1
      """);

  /**
   * KEYS[1] the budget without its window; ARGV window (ms). Finds the current window by Redis
   * time. Returns its counter, or 0 when there is none.
   */
  private static final Script USED = new Script("""
      local window = tonumber(ARGV[1])
      local time = redis.call('TIME')
      local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      local start = now - now % window
      return redis.call('GET', KEYS[1] .. ':' .. string.format('%.0f', start)) or 0
      """);

  private final RedisClient client;
  private final String keyPrefix;

  RedisLimitStore(RedisSettings settings) {
    this(settings, DEFAULT_BREAKER_COOLDOWN);
  }

  /** @param breakerCooldown how long calls fail fast after a failure; tests shorten it */
  RedisLimitStore(RedisSettings settings, Duration breakerCooldown) {
    this.client = new RedisClient(settings.endpoint(), settings.connectTimeout(), settings.timeout(),
        settings.poolSize(), breakerCooldown);
    this.keyPrefix = settings.keyPrefix();
  }

  @Override
  public List<BucketResult> takeAll(List<RateBucket> buckets) throws StoreUnavailableException {
    int n = buckets.size();
    if (n == 0) {
      return List.of();
    }
    String[] keys = new String[n];
    String[] args = new String[1 + 2 * n];
    args[0] = Long.toString(MARGIN_MILLIS);
    for (int i = 0; i < n; i++) {
      RateBucket b = buckets.get(i);
      LimitArguments.checkBucket(b.ratePerSecond(), b.burst());
      keys[i] = keyPrefix + b.key();
      args[1 + 2 * i] = Double.toString(b.ratePerSecond());
      args[2 + 2 * i] = Long.toString(b.burst());
    }
    List<Long> r = integers(eval(TAKE_ALL, keys, args), 4 * n);
    BucketResult[] results = new BucketResult[n];
    for (int i = 0; i < n; i++) {
      boolean had = r.get(4 * i) == 1;
      results[i] = new BucketResult(had, r.get(4 * i + 1), buckets.get(i).burst(), micros(r.get(4 * i + 2)),
          had ? Duration.ZERO : micros(r.get(4 * i + 3)));
    }
    return Arrays.asList(results);
  }

  @Override
  public BudgetResult reserve(String key, Duration window, long limit, long amount) throws StoreUnavailableException {
    LimitArguments.checkBudget(window, limit, amount);
    List<Long> r = integers(eval(RESERVE, keyPrefix + key, Long.toString(window.toMillis()), Long.toString(limit),
        Long.toString(amount), Long.toString(MARGIN_MILLIS)), 4);
    return new BudgetResult(r.get(0) == 1, r.get(1), limit, r.get(2), Duration.ofMillis(r.get(3)));
  }

  @Override
  public void settle(String key, Duration window, long windowStartMillis, long delta) throws StoreUnavailableException {
    LimitArguments.checkWindow(window);
    if (delta == 0) {
      return;
    }
    eval(SETTLE, keyPrefix + key + ":" + windowStartMillis, Long.toString(delta),
        Long.toString(windowStartMillis + window.toMillis()), Long.toString(MARGIN_MILLIS));
  }

  @Override
  public long used(String key, Duration window) throws StoreUnavailableException {
    LimitArguments.checkWindow(window);
    Object reply = eval(USED, keyPrefix + key, Long.toString(window.toMillis()));
    try {
      return switch (reply) {
        case Long n -> n;
        case String s -> Long.parseLong(s);
        case null, default -> throw new NumberFormatException();
      };
    } catch (NumberFormatException e) {
      throw new StoreUnavailableException("Redis at " + client.endpoint().redacted()
          + " holds a budget counter that is not a number: " + keyPrefix + key, null);
    }
  }

  /** Closes the connections; calls afterwards throw {@link StoreUnavailableException}. */
  @Override
  public void close() {
    client.close();
  }

  /** @return whether calls are failing fast because Redis failed moments ago */
  boolean failingFast() {
    return client.failingFast();
  }

  private Object eval(Script script, String key, String... args) throws StoreUnavailableException {
    return eval(script, new String[] {key}, args);
  }

  private Object eval(Script script, String[] keys, String[] args) throws StoreUnavailableException {
    try {
      try {
        return client.send(script.command("EVALSHA", script.sha1, keys, args));
      } catch (RedisClient.ErrorReply e) {
        if (!e.code().equals("NOSCRIPT")) {
          throw e;
        }
        // Redis lost its script cache (a restart, SCRIPT FLUSH, a failover): EVAL also caches it again.
        return client.send(script.command("EVAL", script.source, keys, args));
      }
    } catch (IOException e) {
      throw new StoreUnavailableException("Redis at " + client.endpoint().redacted() + " is unavailable: "
          + e.getMessage(), e);
    } catch (RedisClient.ErrorReply e) {
      throw new StoreUnavailableException("Redis at " + client.endpoint().redacted() + " answered an error: "
          + e.getMessage(), e);
    }
  }

  private List<Long> integers(Object reply, int n) throws StoreUnavailableException {
    if (reply instanceof List<?> list && list.size() == n && list.stream().allMatch(Long.class::isInstance)) {
      return list.stream().map(Long.class::cast).toList();
    }
    throw new StoreUnavailableException("Redis at " + client.endpoint().redacted()
        + " answered a script with something unexpected: " + reply, null);
  }

  private static Duration micros(long micros) {
    return Duration.ofNanos(Math.multiplyExact(micros, 1000L));
  }

  /** A Lua script, known to Redis by its SHA-1. */
  private record Script(String source, String sha1) {
    Script(String source) {
      this(source, sha1(source));
    }

    String[] command(String verb, String scriptOrSha, String[] keys, String[] args) {
      String[] command = new String[3 + keys.length + args.length];
      command[0] = verb;
      command[1] = scriptOrSha;
      command[2] = Integer.toString(keys.length);
      System.arraycopy(keys, 0, command, 3, keys.length);
      System.arraycopy(args, 0, command, 3 + keys.length, args.length);
      return command;
    }

    private static String sha1(String source) {
      try {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has SHA-1", e);
      }
    }
  }
}
