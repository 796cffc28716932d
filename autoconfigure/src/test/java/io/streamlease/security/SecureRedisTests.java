package io.streamlease.security;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import io.streamlease.test.redis.TlsMaterial;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS with a test CA, a Redis ACL user without CONFIG rights, and no secret in the logs.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecureRedisTests {

	private static final String PASSWORD = "s3cr3t-Pa55w0rd-do-not-log";

	/**
	 * The ACL of a Redis user for a service named {@code secure}: its keys, its channels, and the commands the
	 * engine runs (directly and inside its scripts), without CONFIG, KEYS or any other dangerous command. The
	 * README shows the same line for managed Redis.
	 */
	static final String[] ACL = { "on", ">" + PASSWORD, "resetkeys", "~secure-input", "~{secure-input}:*", "~data:*",
			"resetchannels", "&{secure-input}:handoff", "&__keyspace@*__:{secure-input}:session:*", "-@all", "+@connection",
			"+@stream", "+@scripting", "+@pubsub", "+@hash", "+@sortedset", "+@string", "+@keyspace", "+time", "+info",
			"-@dangerous" };

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, StreamLeaseAutoConfiguration.class))
			.withBean(Recorder.class)
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"stream-lease.hb-interval=2s");
	}

	@Test
	void theEngineWorksOverTlsWithTheSpringBootSslBundle() throws IOException {
		TlsMaterial tls = TlsMaterial.generate();
		int tlsPort = freePort();
		try (RedisServer redis = RedisServers.start(tls.serverConfig(RedisServerSpec.defaults(), tlsPort))) {
			runner("tls").withPropertyValues("spring.data.redis.port=" + tlsPort, "spring.data.redis.ssl.enabled=true",
					"spring.data.redis.ssl.bundle=redis",
					"spring.ssl.bundle.pem.redis.truststore.certificate=file:" + tls.caCertificate())
				.run((context) -> {
					assertThat(context).hasNotFailed();
					context.getBean(StreamLeaseTemplate.class).submit("over-tls", Map.of());
					await().atMost(10, TimeUnit.SECONDS).until(() -> context.getBean(Recorder.class).seen.contains("over-tls"));
					await().atMost(5, TimeUnit.SECONDS).until(() -> Long.valueOf(0).equals(redis.command("XLEN", "tls-input")));
				});
		}
	}

	@Test
	void aServerCertificateFromAnotherCaFailsStartupWithAClearError() throws IOException {
		TlsMaterial tls = TlsMaterial.generate();
		TlsMaterial other = TlsMaterial.generate();
		int tlsPort = freePort();
		try (RedisServer redis = RedisServers.start(tls.serverConfig(RedisServerSpec.defaults(), tlsPort))) {
			runner("wrong-ca").withPropertyValues("spring.data.redis.port=" + tlsPort, "spring.data.redis.ssl.enabled=true",
					"spring.data.redis.ssl.bundle=redis",
					"spring.ssl.bundle.pem.redis.truststore.certificate=file:" + other.caCertificate())
				.run((context) -> {
					assertThat(context).hasFailed();
					String message = messages(context.getStartupFailure());
					assertThat(message).contains("Stream Lease could not start service 'wrong-ca'")
						.contains("the TLS handshake with Redis failed").contains(String.valueOf(tlsPort))
						.containsAnyOf("PKIX", "certificate", "SSL", "handshake", "Handshake");
				});
		}
	}

	@Test
	void anAclUserWithoutConfigRightsWorksWithTheSweepAndOneWarning(CapturedOutput output) {
		try (RedisServer redis = RedisServers.start()) {
			redis.command(acl("secure"));
			runner("secure").withPropertyValues("spring.data.redis.port=" + redis.port(),
					"spring.data.redis.username=secure", "spring.data.redis.password=" + PASSWORD)
				.run((context) -> {
					assertThat(context).hasNotFailed();
					context.getBean(StreamLeaseTemplate.class).submit("with-acl", Map.of("k", "v"));
					await().atMost(10, TimeUnit.SECONDS).until(() -> context.getBean(Recorder.class).seen.contains("with-acl"));
					await().atMost(5, TimeUnit.SECONDS)
						.until(() -> Long.valueOf(0).equals(redis.command("XLEN", "secure-input")));
				});
			assertThat(output.getOut()).containsOnlyOnce("Keyspace notifications could not be enabled for service 'secure'");
			assertThat(redis.command("ACL", "LOG").toString()).doesNotContain("EVALSHA", "XREADGROUP", "XADD");
		}
	}

	@Test
	void noSecretAppearsInTheLogs(CapturedOutput output) {
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().requirePass(PASSWORD))) {
			runner("quiet").withPropertyValues("spring.data.redis.port=" + redis.port(), "spring.data.redis.password=" + PASSWORD,
					"logging.level.io.streamlease=DEBUG")
				.run((context) -> {
					assertThat(context).hasNotFailed();
					context.getBean(StreamLeaseTemplate.class).submit("quiet", null);
					await().atMost(10, TimeUnit.SECONDS).until(() -> context.getBean(Recorder.class).seen.contains("quiet"));
				});
			runner("wrong-password").withPropertyValues("spring.data.redis.port=" + redis.port(),
					"spring.data.redis.password=" + PASSWORD + "-wrong")
				.run((context) -> {
					assertThat(context).hasFailed();
					assertThat(messages(context.getStartupFailure())).doesNotContain(PASSWORD);
				});
		}
		assertThat(output.getAll()).doesNotContain(PASSWORD).contains("Started @StreamHandler");
	}

	private static String[] acl(String user) {
		String[] command = new String[3 + ACL.length];
		command[0] = "ACL";
		command[1] = "SETUSER";
		command[2] = user;
		System.arraycopy(ACL, 0, command, 3, ACL.length);
		return command;
	}

	private static String messages(Throwable failure) {
		StringBuilder all = new StringBuilder();
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			all.append(cause.getMessage()).append('\n');
		}
		return all.toString();
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	static class Recorder {

		final List<String> seen = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.seen.add(stream.name());
		}

	}

}
