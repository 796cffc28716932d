package io.streamlease.test.redis;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the annotated field or parameter of type {@link RedisServer} the Redis server of its test class: one
 * real server per test class, started before the first test (before the class's {@code @BeforeAll} methods
 * when a static field is annotated) and closed after all of them, from {@link RedisServerSpec#defaults()}, so
 * its version comes from the system property {@value RedisVersion#PROPERTY}. Every annotated field and every
 * {@code RedisServer} parameter of the class, its superclasses and its {@code @Nested} classes gets the same
 * server. Give each test fresh keys, for example with {@link RedisServerExtension#uniqueName(String)}.
 *
 * <pre class="code">
 * class OrdersTests {
 *
 *     &#064;SharedRedisServer
 *     static RedisServer redis;
 *
 *     &#064;Test
 *     void storesAnOrder(TestInfo test) {
 *         String key = RedisServerExtension.uniqueName("order", test);
 *         redis.command("SET", key, "1");
 *     }
 *
 * }
 * </pre>
 *
 * <p>Fields may be static (set before {@code @BeforeAll} methods run, so field initialisers of the test
 * instance can use them) or not (set before {@code @BeforeEach} methods run), but not final. Tests that need
 * a server of their own, with persistence or a configuration that they change, start it with
 * {@link RedisServers} instead.
 *
 * @see RedisServerExtension
 */
@Target({ ElementType.FIELD, ElementType.PARAMETER })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(RedisServerExtension.class)
public @interface SharedRedisServer {

	/**
	 * The password the server requires ({@code requirepass}), which {@link RedisServer#command} then sends by
	 * itself; empty for none. Every annotation of one test class must name the same password.
	 * @return the password, or an empty string
	 */
	String password() default "";

}
