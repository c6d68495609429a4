package dev.portalgateway.host.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pool over real loopback sockets: what it keeps, what it closes, and when. */
@Timeout(value = 60, unit = TimeUnit.SECONDS) // a broken pool strands requests in waits: fail, do not hang
class TransportPoolTest {
  private ServerSocket server;
  private final LinkedBlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
  private final AtomicInteger opened = new AtomicInteger();

  @BeforeEach
  void listen() throws IOException {
    server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(() -> {
      try {
        while (true) {
          accepted.add(server.accept());
        }
      } catch (IOException closed) {
        // the test is over
      }
    });
  }

  @AfterEach
  void close() throws IOException {
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
  }

  private TransportPool pool(int maxIdle, long idleTimeoutMillis) {
    return new TransportPool(() -> {
      opened.incrementAndGet();
      return SocketTransport.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2000);
    }, maxIdle, TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis));
  }

  private List<Socket> serverSides(int n) throws InterruptedException {
    List<Socket> sides = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = accepted.poll(5, TimeUnit.SECONDS);
      assertThat(s).as("server side %d", i).isNotNull();
      sides.add(s);
    }
    return sides;
  }

  /** @return whether the gateway closed this connection: the server side reads end of stream */
  private static boolean closedByPool(Socket serverSide, int waitMillis) throws IOException {
    serverSide.setSoTimeout(waitMillis);
    try {
      return serverSide.getInputStream().read() < 0;
    } catch (java.net.SocketTimeoutException stillOpen) {
      return false;
    }
  }

  @Test
  void aBurstKeepsAllItsConnectionsUpToTheBoundAndReusesThemNewestFirst() throws Exception {
    try (TransportPool pool = pool(40, 60_000)) {
      List<TransportPool.Connection> burst = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        burst.add(pool.open());
      }
      burst.forEach(pool::release);
      assertThat(pool.idleCount()).isEqualTo(40);
      List<Socket> sides = serverSides(50);
      // The ten released first are the oldest: the bound closed those.
      long closed = 0;
      for (Socket side : sides.subList(0, 10)) {
        closed += closedByPool(side, 2000) ? 1 : 0;
      }
      assertThat(closed).isEqualTo(10);

      List<TransportPool.Connection> again = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        TransportPool.Connection c = pool.pooled();
        assertThat(c).isNotNull();
        again.add(c);
      }
      assertThat(again.getFirst()).isSameAs(burst.getLast());
      assertThat(pool.pooled()).isNull();
      assertThat(opened).hasValue(50);
    }
  }

  @Test
  void connectionsIdleLongerThanTheTimeoutAreClosedBySweepAndByLaterReleases() throws Exception {
    try (TransportPool pool = pool(100, 1500)) {
      List<TransportPool.Connection> first = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        first.add(pool.open());
      }
      first.forEach(pool::release);
      List<Socket> firstSides = serverSides(3);
      Thread.sleep(1700);

      // A release after the timeout closes the expired connections behind it, not itself.
      TransportPool.Connection fresh = pool.open();
      Socket freshSide = serverSides(1).getFirst();
      pool.release(fresh);
      assertThat(pool.idleCount()).isEqualTo(1);
      for (Socket side : firstSides) {
        assertThat(closedByPool(side, 2000)).isTrue();
      }
      assertThat(closedByPool(freshSide, 50)).isFalse();

      // With no traffic at all, the periodic sweep closes it once it has expired.
      pool.evictExpired();
      assertThat(pool.idleCount()).isEqualTo(1);
      Thread.sleep(1700);
      pool.evictExpired();
      assertThat(pool.idleCount()).isZero();
      assertThat(closedByPool(freshSide, 2000)).isTrue();
    }
  }

  /** Opens are held at this gate while it is closed: a slow handshake. */
  private final AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(0));
  private final AtomicInteger inOpener = new AtomicInteger();

  private TransportPool gatedPool(int maxOpening, long waitMillis) {
    return gatedPool(100, maxOpening, waitMillis);
  }

  private TransportPool gatedPool(int maxIdle, int maxOpening, long waitMillis) {
    return new TransportPool(() -> {
      inOpener.incrementAndGet();
      try {
        gate.get().await();
      } catch (InterruptedException e) {
        throw new InterruptedIOException();
      }
      opened.incrementAndGet();
      return SocketTransport.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2000);
    }, maxIdle, TimeUnit.SECONDS.toNanos(60), maxOpening, TimeUnit.MILLISECONDS.toNanos(waitMillis));
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).as("within 5 s").isTrue();
  }

  @Test
  void pastTheOpeningBoundRequestsWaitForAReleasedConnectionOrAFreeSlot() throws Exception {
    try (TransportPool pool = gatedPool(2, 30_000);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      TransportPool.Connection first = pool.acquire();
      assertThat(first.reused()).isFalse();

      gate.set(new CountDownLatch(1));
      inOpener.set(0);
      List<Future<TransportPool.Connection>> requests = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        requests.add(threads.submit(() -> pool.acquire()));
      }
      awaitTrue(() -> inOpener.get() == 2);
      Thread.sleep(200);
      assertThat(inOpener).as("two opens at a time; the other four wait").hasValue(2);

      // A connection released by another request goes to one of the waiting ones.
      first.release();
      awaitTrue(() -> requests.stream().filter(Future::isDone).count() == 1);
      TransportPool.Connection handedOver = requests.stream().filter(Future::isDone).findFirst().orElseThrow().get();
      assertThat(handedOver).isSameAs(first);
      assertThat(handedOver.reused()).isTrue();
      assertThat(inOpener).hasValue(2);

      // The handshakes finish: the remaining requests open their own, two at a time.
      gate.get().countDown();
      for (Future<TransportPool.Connection> r : requests) {
        assertThat(r.get(10, TimeUnit.SECONDS)).isNotNull();
      }
      assertThat(opened).as("the first, then one for each request the release did not serve").hasValue(6);
    }
  }

  @Test
  void waitingRequestsAreServedInArrivalOrderAndANewcomerCannotTakeWhatIsHandedToThem() throws Exception {
    try (TransportPool pool = gatedPool(1, 10_000);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      TransportPool.Connection first = pool.acquire();
      gate.set(new CountDownLatch(1));
      inOpener.set(0);
      try {
        Future<TransportPool.Connection> opening = threads.submit(() -> pool.acquire());
        awaitTrue(() -> inOpener.get() == 1);
        Future<TransportPool.Connection> a = threads.submit(() -> pool.acquire());
        awaitTrue(() -> pool.waitingCount() == 1);
        Future<TransportPool.Connection> b = threads.submit(() -> pool.acquire());
        awaitTrue(() -> pool.waitingCount() == 2);

        // Released while two wait: it goes to the first of them, and this thread, arriving just
        // after, finds nothing idle to take ahead of them.
        first.release();
        assertThat(pool.pooled()).isNull();
        assertThat(a.get(5, TimeUnit.SECONDS)).isSameAs(first);
        assertThat(b.isDone()).isFalse();

        // The handshake finishes: its slot passes to the next in line, who opens a connection.
        gate.get().countDown();
        assertThat(opening.get(5, TimeUnit.SECONDS).reused()).isFalse();
        TransportPool.Connection second = b.get(5, TimeUnit.SECONDS);
        assertThat(second.reused()).isFalse();
        assertThat(pool.waitingCount()).isZero();
        assertThat(opened).hasValue(3);
      } finally {
        gate.get().countDown(); // a failed assertion must not leave the opener blocked
      }
    }
  }

  @Test
  void aPoolThatKeepsNoneClosesAReleasedConnectionEvenWithRequestsWaiting() throws Exception {
    try (TransportPool pool = gatedPool(0, 1, 10_000);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      TransportPool.Connection first = pool.acquire();
      Socket firstServerSide = serverSides(1).get(0);
      gate.set(new CountDownLatch(1));
      inOpener.set(0);
      try {
        Future<TransportPool.Connection> opening = threads.submit(() -> pool.acquire());
        awaitTrue(() -> inOpener.get() == 1);
        Future<TransportPool.Connection> waiting = threads.submit(() -> pool.acquire());
        awaitTrue(() -> pool.waitingCount() == 1);

        first.release();
        assertThat(closedByPool(firstServerSide, 5000)).as("max idle 0: no reuse, not even by a waiting request").isTrue();
        gate.get().countDown();
        assertThat(opening.get(5, TimeUnit.SECONDS).reused()).isFalse();
        assertThat(waiting.get(5, TimeUnit.SECONDS).reused()).as("it opened its own, in the freed slot").isFalse();
        assertThat(opened).hasValue(3);
      } finally {
        gate.get().countDown();
      }
    }
  }

  @Test
  void aRequestThatGetsNoConnectionWithinTheWaitFailsWithATimeout() throws Exception {
    try (TransportPool pool = gatedPool(1, 300);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      gate.set(new CountDownLatch(1));
      Future<TransportPool.Connection> opening = threads.submit(() -> pool.acquire());
      awaitTrue(() -> inOpener.get() == 1);
      assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> assertThatThrownBy(() -> pool.acquire())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("no connection became free"));
      assertThat(pool.waitingCount()).as("the request that gave up left the queue").isZero();
      gate.get().countDown();
      assertThat(opening.get(10, TimeUnit.SECONDS)).isNotNull();
    }
  }

  @Test
  void aFailedOpenFreesItsSlotAndClosingThePoolReleasesTheRequestsWaitingInIt() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      TransportPool failing = new TransportPool(() -> {
        attempts.incrementAndGet();
        throw new java.net.ConnectException("Connection refused");
      }, 10, TimeUnit.SECONDS.toNanos(60), 1, TimeUnit.SECONDS.toNanos(30));
      // With one slot, a slot that a failure kept would make the second call wait 30 s.
      for (int i = 0; i < 3; i++) {
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
            () -> assertThatThrownBy(failing::acquire).isInstanceOf(java.net.ConnectException.class));
      }
      assertThat(attempts).hasValue(3);

      TransportPool pool = gatedPool(1, 30_000);
      gate.set(new CountDownLatch(1));
      Future<TransportPool.Connection> opening = threads.submit(pool::acquire);
      awaitTrue(() -> inOpener.get() == 1);
      Future<TransportPool.Connection> waiting = threads.submit(pool::acquire);
      Thread.sleep(100);
      assertThat(waiting.isDone()).isFalse();
      pool.close();
      assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IOException.class).hasMessageContaining("closed");
      assertThat(pool.waitingCount()).isZero();
      gate.get().countDown();
      opening.get(5, TimeUnit.SECONDS).closeQuietly();
    }
  }
}
