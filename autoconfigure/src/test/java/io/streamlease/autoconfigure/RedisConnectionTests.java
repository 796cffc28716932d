package io.streamlease.autoconfigure;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Boot's Redis connection settings ({@code spring.data.redis.*} or a {@link DataRedisConnectionDetails}
 * bean) turned into the Redisson configuration of the engine's client, and that client against real servers with
 * a password and an ACL user.
 */
class RedisConnectionTests {

	private static final String PASSWORD = "s3cret-for-tests";

	@SharedRedisServer(password = PASSWORD)
	private static RedisServer redis;

	@BeforeAll
	static void createAclUser() {
		redis.command("ACL", "SETUSER", "app", "on", ">app-pass", "~*", "&*", "+@all");
	}

	// ---- mapping

	@Test
	void mapsHostPortUsernamePasswordDatabaseAndTimeoutToASingleServer() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.host=cache.example", "spring.data.redis.port=6380",
				"spring.data.redis.username=app", "spring.data.redis.password=pw", "spring.data.redis.database=3",
				"spring.data.redis.timeout=750ms", "spring.data.redis.client-name=orders-app");
		assertThat(connection.mode()).isEqualTo(RedisConnection.Mode.STANDALONE);
		assertThat(connection.nodes()).containsExactly("cache.example:6380");
		assertThat(connection.username()).isEqualTo("app");
		assertThat(connection.password()).isEqualTo("pw");
		assertThat(connection.database()).isEqualTo(3);
		assertThat(connection.ssl()).isFalse();
		String yaml = connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML();
		assertThat(yaml).contains("address: \"redis://cache.example:6380\"")
			.contains("database: 3")
			.contains("username: \"app\"")
			.contains("password: \"pw\"")
			.contains("  timeout: 750\n")
			.contains("clientName: \"orders-app\"");
	}

	@Test
	void theUrlOverridesHostAndPortAndCarriesCredentialsDatabaseAndTls() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.host=ignored.example",
				"spring.data.redis.url=rediss://app:pw@cache.example:6390/4");
		assertThat(connection.nodes()).containsExactly("cache.example:6390");
		assertThat(connection.username()).isEqualTo("app");
		assertThat(connection.password()).isEqualTo("pw");
		assertThat(connection.database()).isEqualTo(4);
		assertThat(connection.ssl()).isTrue();
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML())
			.contains("address: \"rediss://cache.example:6390\"");
	}

	@Test
	void aUrlWithOnlyAPasswordKeepsTheConfiguredUsername() {
		RedisConnection connection = fromProperties("spring.data.redis.username=app",
				"spring.data.redis.url=redis://:pw@cache.example:6390");
		assertThat(connection.username()).isEqualTo("app");
		assertThat(connection.password()).isEqualTo("pw");
		assertThat(connection.ssl()).isFalse();
	}

	@Test
	void sslEnabledSwitchesTheAddressesToRediss() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.host=cache.example",
				"spring.data.redis.ssl.enabled=true");
		assertThat(connection.ssl()).isTrue();
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML())
			.contains("address: \"rediss://cache.example:6379\"");
	}

	@Test
	void clusterNodesMakeAClusterConfiguration() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.cluster.nodes=node-a:7000,node-b:7001",
				"spring.data.redis.password=pw");
		assertThat(connection.mode()).isEqualTo(RedisConnection.Mode.CLUSTER);
		assertThat(connection.nodes()).containsExactly("node-a:7000", "node-b:7001");
		String yaml = connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML();
		assertThat(yaml).contains("clusterServersConfig:")
			.contains("- redis://node-a:7000")
			.contains("- redis://node-b:7001")
			.doesNotContain("singleServerConfig:");
	}

	@Test
	void aSentinelMasterMakesASentinelConfiguration() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.sentinel.master=mymaster",
				"spring.data.redis.sentinel.nodes=sentinel-1:26379,sentinel-2:26379", "spring.data.redis.database=2");
		assertThat(connection.mode()).isEqualTo(RedisConnection.Mode.SENTINEL);
		assertThat(connection.sentinelMaster()).isEqualTo("mymaster");
		String yaml = connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML();
		assertThat(yaml).contains("sentinelServersConfig:")
			.contains("masterName: \"mymaster\"")
			.contains("- redis://sentinel-1:26379")
			.contains("database: 2");
	}

	@Test
	void withoutSettingsItIsLocalhostOnTheDefaultPort() {
		RedisConnection connection = fromProperties();
		assertThat(connection.nodes()).containsExactly("localhost:6379");
		assertThat(connection.mode()).isEqualTo(RedisConnection.Mode.STANDALONE);
		assertThat(connection.database()).isZero();
	}

	@Test
	void theDefaultCommandTimeoutIsThreeSecondsOrHalfTheHbIntervalAndTheClientConnectsLazily() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.host=cache.example");
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(2)).toYAML()).contains("  timeout: 3000\n");
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(60)).toYAML()).contains("  timeout: 30000\n");
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(2)).toYAML()).contains("lazyInitialization: true");
		assertThat(fromProperties("spring.data.redis.timeout=750ms").toRedissonConfig(Duration.ofSeconds(2)).toYAML())
			.contains("  timeout: 750\n");
	}

	@Test
	void leaseAndDataClientsGetPoolsOfTheirOwnAndTellThemselvesApartByName() throws IOException {
		RedisConnection connection = fromProperties("spring.data.redis.host=cache.example",
				"spring.data.redis.client-name=orders-app");
		String lease = connection.toRedissonConfig(Duration.ofSeconds(10), RedisConnection.Role.LEASE).toYAML();
		String data = connection.toRedissonConfig(Duration.ofSeconds(10), RedisConnection.Role.DATA).toYAML();
		assertThat(lease).contains("connectionMinimumIdleSize: 8").contains("connectionPoolSize: 64")
			.contains("clientName: \"orders-app\"");
		assertThat(data).contains("connectionMinimumIdleSize: 4").contains("connectionPoolSize: 64")
			.contains("clientName: \"orders-app-data\"")
			.contains("  timeout: 5000\n")
			.contains("lazyInitialization: true");
		assertThat(connection.toRedissonConfig(Duration.ofSeconds(10)).toYAML()).isEqualTo(lease);
		String cluster = fromProperties("spring.data.redis.cluster.nodes=a:7000,b:7001")
			.toRedissonConfig(Duration.ofSeconds(10), RedisConnection.Role.DATA)
			.toYAML();
		assertThat(cluster).contains("readMode: \"MASTER\"").contains("masterConnectionPoolSize: 64");
	}

	@Test
	void toStringNeverShowsThePassword() {
		RedisConnection connection = fromProperties("spring.data.redis.password=" + PASSWORD);
		assertThat(connection.toString()).doesNotContain(PASSWORD).contains("(set)");
	}

	@Test
	void readsStandaloneClusterAndSentinelConnectionDetails() {
		DataRedisConnectionDetails standalone = new DataRedisConnectionDetails() {

			@Override
			public String getUsername() {
				return "app";
			}

			@Override
			public String getPassword() {
				return "pw";
			}

			@Override
			public Standalone getStandalone() {
				return Standalone.of("details.example", 6381, 5);
			}

		};
		RedisConnection connection = ConnectionDetailsRedisConnection.from(standalone,
				bind("spring.data.redis.ssl.enabled=true", "spring.data.redis.timeout=2s"));
		assertThat(connection.mode()).isEqualTo(RedisConnection.Mode.STANDALONE);
		assertThat(connection.nodes()).containsExactly("details.example:6381");
		assertThat(connection.database()).isEqualTo(5);
		assertThat(connection.username()).isEqualTo("app");
		assertThat(connection.password()).isEqualTo("pw");
		assertThat(connection.ssl()).isTrue();
		assertThat(connection.timeout()).isEqualTo(Duration.ofSeconds(2));

		DataRedisConnectionDetails cluster = new DataRedisConnectionDetails() {

			@Override
			public Cluster getCluster() {
				return () -> List.of(new Node("c1", 7000), new Node("c2", 7001));
			}

		};
		RedisConnection clustered = ConnectionDetailsRedisConnection.from(cluster, null);
		assertThat(clustered.mode()).isEqualTo(RedisConnection.Mode.CLUSTER);
		assertThat(clustered.nodes()).containsExactly("c1:7000", "c2:7001");

		DataRedisConnectionDetails sentinel = new DataRedisConnectionDetails() {

			@Override
			public Sentinel getSentinel() {
				return new Sentinel() {

					@Override
					public int getDatabase() {
						return 1;
					}

					@Override
					public String getMaster() {
						return "mymaster";
					}

					@Override
					public List<Node> getNodes() {
						return List.of(new Node("s1", 26379));
					}

					@Override
					public String getUsername() {
						return null;
					}

					@Override
					public String getPassword() {
						return null;
					}

				};
			}

		};
		RedisConnection sentinelled = ConnectionDetailsRedisConnection.from(sentinel, null);
		assertThat(sentinelled.mode()).isEqualTo(RedisConnection.Mode.SENTINEL);
		assertThat(sentinelled.sentinelMaster()).isEqualTo("mymaster");
		assertThat(sentinelled.nodes()).containsExactly("s1:26379");
		assertThat(sentinelled.database()).isEqualTo(1);
	}

	// ---- real servers

	private ApplicationContextRunner runner() {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=connections");
	}

	@Test
	void connectsWithThePasswordFromTheProperties() {
		runner().withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + redis.port(),
				"spring.data.redis.password=" + PASSWORD)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				context.getBean(StreamLeaseRedis.class).getClient().getBucket("password:probe", StringCodec.INSTANCE).set("ok");
				assertThat(redis.command("GET", "password:probe")).isEqualTo("ok");
			});
	}

	@Test
	void connectsAsTheAclUserToTheDatabaseOfTheUrl() {
		runner().withPropertyValues("spring.data.redis.url=redis://app:app-pass@127.0.0.1:" + redis.port() + "/2")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				context.getBean(StreamLeaseRedis.class).getClient().getBucket("acl:probe", StringCodec.INSTANCE).set("ok");
				assertThat(redis.command("INFO", "keyspace").toString()).contains("db2:keys=1");
				assertThat(redis.command("ACL", "LOG").toString()).doesNotContain("app-pass");
			});
	}

	@Test
	void aWrongPasswordFailsStartupNamingTheCredentialsEvenWithoutFailFast() {
		runner().withBean(HoldingHandler.class)
			.withPropertyValues("spring.application.name=orders", "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "spring.data.redis.password=not-the-password")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("WRONGPASS");
				Throwable failure = context.getStartupFailure();
				while (!(failure instanceof io.streamlease.StreamLeaseException) && failure.getCause() != null) {
					failure = failure.getCause();
				}
				assertThat(failure).hasMessageContaining("Redis refused the credentials")
					.hasMessageNotContaining("not-the-password");
			});
	}

	private static RedisConnection fromProperties(String... pairs) {
		return RedisConnection.fromProperties(bind(pairs), (name) -> {
			throw new IllegalStateException("no bundle " + name);
		});
	}

	private static RedisConnection.Properties bind(String... pairs) {
		Map<String, String> map = new LinkedHashMap<>();
		for (String pair : pairs) {
			int equals = pair.indexOf('=');
			map.put(pair.substring(0, equals), pair.substring(equals + 1));
		}
		return new Binder(new MapConfigurationPropertySource(map)).bind("spring.data.redis", RedisConnection.Properties.class)
			.orElse(null);
	}

}
