package dev.portalgateway.plugins.webhook;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How one webhook is retried, stored with it when it is accepted: a webhook is delivered under the
 * retry settings its route had then, so a reload never changes the schedule of one in flight.
 * Times are in milliseconds.
 *
 * @param maxAttempts attempts before the dead-letter queue
 * @param maxAgeMillis how long after acceptance (or a replay) attempts go on
 * @param initialBackoffMillis the backoff ceiling after the first failure
 * @param maxBackoffMillis the most the ceiling grows to
 * @param retryStatuses 4xx statuses retried
 * @param deadLetter4xx whether other 4xx answers are final
 * @param attemptTimeoutMillis how long one attempt may take
 */
record DeliveryPolicy(int maxAttempts, long maxAgeMillis, long initialBackoffMillis, long maxBackoffMillis,
    List<Integer> retryStatuses, boolean deadLetter4xx, long attemptTimeoutMillis) {

  DeliveryPolicy {
    retryStatuses = List.copyOf(retryStatuses);
  }

  /**
   * Exponential backoff with full jitter: a random wait between zero and a ceiling that doubles
   * with each failure, so that many webhooks failing together do not come back together.
   *
   * @param failures failures so far, at least 1
   * @return the wait before the next attempt, in milliseconds
   */
  long backoffMillis(int failures) {
    int shift = Math.min(Math.max(failures - 1, 0), 30);
    long ceiling = Math.min(maxBackoffMillis, initialBackoffMillis << shift);
    if (ceiling <= 0 || ceiling > maxBackoffMillis) {
      ceiling = maxBackoffMillis; // the shift overflowed
    }
    return ThreadLocalRandom.current().nextLong(ceiling + 1);
  }

  /**
   * What an answer means for delivery.
   *
   * @param status the upstream's status
   * @return the verdict for it
   */
  Verdict judge(int status) {
    if (status >= 200 && status < 300) {
      return Verdict.DELIVERED;
    }
    if (status == 410) {
      return Verdict.PAUSE;
    }
    if (status >= 400 && status < 500 && deadLetter4xx && !retryStatuses.contains(status)) {
      return Verdict.DEAD;
    }
    return Verdict.RETRY; // 5xx, 3xx (a redirect is a misconfiguration to be fixed), listed 4xx
  }

  /** What an attempt's answer means. */
  enum Verdict {
    /** Delivered: done. */
    DELIVERED,
    /** Try again later, if attempts and age allow. */
    RETRY,
    /** Final failure: to the dead-letter queue. */
    DEAD,
    /** 410 Gone: stop delivering to the route until an operator resumes it. */
    PAUSE
  }
}
