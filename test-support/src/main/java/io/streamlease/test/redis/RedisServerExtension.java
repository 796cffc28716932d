package io.streamlease.test.redis;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ModifierSupport;

/**
 * The JUnit Jupiter extension behind {@link SharedRedisServer}: one {@link RedisServer} per test class, kept in
 * the class's extension store, so JUnit closes it when the class is done (after its {@code @AfterAll}
 * methods). Static annotated fields are set before the class's {@code @BeforeAll} methods, instance fields
 * before its {@code @BeforeEach} methods, and any {@code RedisServer} parameter of a constructor, lifecycle or
 * test method is resolved to the same server.
 *
 * <p>Registered by {@link SharedRedisServer}; it can also be registered with {@code @ExtendWith} for
 * parameter injection alone.
 */
public final class RedisServerExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {

	private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace
		.create(RedisServerExtension.class);

	private static final AtomicInteger names = new AtomicInteger();

	/**
	 * Return a name no other call returns in this JVM: the prefix followed by a number, such as
	 * {@code orders7}. Use it for keys, service names and consumer ids that must not collide with those of
	 * another test on the same server.
	 * @param prefix the start of the name
	 * @return the fresh name
	 */
	public static String uniqueName(String prefix) {
		return Objects.requireNonNull(prefix, "prefix") + names.incrementAndGet();
	}

	/**
	 * Return a name no other call returns in this JVM that also says which test it belongs to: the prefix, a
	 * number and the name of the test method, such as {@code svc7-claimsOrphanWhenOwnerIsKilled}.
	 * @param prefix the start of the name
	 * @param test the running test, a parameter of the test or {@code @BeforeEach} method
	 * @return the fresh name
	 */
	public static String uniqueName(String prefix, TestInfo test) {
		return uniqueName(prefix) + "-" + test.getTestMethod().map((method) -> method.getName()).orElse("test");
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		injectFields(context, context.getRequiredTestClass(), null, ModifierSupport::isStatic);
	}

	@Override
	public void beforeEach(ExtensionContext context) {
		for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
			injectFields(context, instance.getClass(), instance, ModifierSupport::isNotStatic);
		}
	}

	@Override
	public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		return parameterContext.getParameter().getType() == RedisServer.class;
	}

	@Override
	public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		String password = parameterContext.findAnnotation(SharedRedisServer.class)
			.map(SharedRedisServer::password)
			.orElse(null);
		return server(extensionContext, password, parameterContext.getParameter());
	}

	private void injectFields(ExtensionContext context, Class<?> testClass, Object instance,
			Predicate<Field> modifiers) {
		for (Field field : AnnotationSupport.findAnnotatedFields(testClass, SharedRedisServer.class, modifiers,
				HierarchyTraversalMode.TOP_DOWN)) {
			if (field.getType() != RedisServer.class) {
				throw new ExtensionConfigurationException("@SharedRedisServer field " + describe(field) + " is of type "
						+ field.getType().getName() + "; declare it as " + RedisServer.class.getName());
			}
			if (ModifierSupport.isFinal(field)) {
				throw new ExtensionConfigurationException(
						"@SharedRedisServer field " + describe(field) + " is final; remove 'final' so it can be set");
			}
			String password = field.getAnnotation(SharedRedisServer.class).password();
			RedisServer server = server(context, password, field);
			try {
				field.setAccessible(true);
				field.set(instance, server);
			}
			catch (ReflectiveOperationException | RuntimeException ex) {
				throw new ExtensionConfigurationException("Could not set @SharedRedisServer field " + describe(field), ex);
			}
		}
	}

	/**
	 * The server of the test class, started on first use. A password of {@code null} accepts the server
	 * whatever its password (a parameter without the annotation); otherwise it must match the one the server
	 * was started with.
	 */
	private static RedisServer server(ExtensionContext context, String password, AnnotatedElement requester) {
		ExtensionContext classContext = classContext(context);
		String requested = (password != null) ? password : requestedPassword(classContext.getRequiredTestClass());
		ClassServer shared = classContext.getStore(NAMESPACE)
			.computeIfAbsent(ClassServer.class, (key) -> ClassServer.start(requested), ClassServer.class);
		if (password != null && !shared.password.equals(password)) {
			throw new ExtensionConfigurationException("@SharedRedisServer on " + requester + " asks for "
					+ ((password.isEmpty()) ? "no password" : "a password") + " but the server of "
					+ classContext.getRequiredTestClass().getName() + " was started "
					+ ((shared.password.isEmpty()) ? "without one" : "with another")
					+ "; give every @SharedRedisServer of one test class the same password");
		}
		return shared.server;
	}

	/**
	 * The context of the innermost test class: a server belongs to a class, whichever method asks first.
	 */
	private static ExtensionContext classContext(ExtensionContext context) {
		ExtensionContext current = context;
		while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
			current = current.getParent().get();
		}
		return current;
	}

	/**
	 * The password the class's annotated fields ask for, so that a plain parameter that happens to be resolved
	 * first starts the server the fields expect.
	 */
	private static String requestedPassword(Class<?> testClass) {
		List<Field> fields = AnnotationSupport.findAnnotatedFields(testClass, SharedRedisServer.class, (field) -> true,
				HierarchyTraversalMode.TOP_DOWN);
		return fields.isEmpty() ? "" : fields.get(0).getAnnotation(SharedRedisServer.class).password();
	}

	private static String describe(Field field) {
		return field.getDeclaringClass().getName() + "." + field.getName();
	}

	/**
	 * The server of one test class and the password it was started with; closed by JUnit with the class's
	 * extension store.
	 */
	private record ClassServer(RedisServer server, String password) implements AutoCloseable {

		static ClassServer start(String password) {
			RedisServerSpec spec = RedisServerSpec.defaults();
			if (!password.isEmpty()) {
				spec = spec.requirePass(password);
			}
			return new ClassServer(RedisServers.start(spec), password);
		}

		@Override
		public void close() {
			this.server.close();
		}

	}

}
