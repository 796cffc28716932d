package io.streamlease.listener;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Arrays;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamState;
import org.springframework.messaging.handler.invocation.InvocableHandlerMethod;
import org.springframework.util.ClassUtils;

/**
 * One @StreamHandler method: the bean, the method, the service it serves and its mode.
 */
public final class StreamHandlerEndpoint {

	/**
	 * How the method consumes a stream.
	 */
	public enum Mode {

		/** The method receives the {@link LeasedStream} and processes the stream itself. */
		STREAM,

		/** The method receives one {@link StreamEntry} at a time; the container reads the stream. */
		ENTRY

	}

	private final String id;

	private final String service;

	private final Object bean;

	private final Method method;

	private final Mode mode;

	private final InvocableHandlerMethod invocable;

	private final Overrides overrides;

	private boolean autoStartup = true;

	/**
	 * An endpoint with the settings of the properties.
	 * @throws IllegalStateException if the method's parameters fit neither mode
	 */
	public StreamHandlerEndpoint(String id, String service, Object bean, Method method, InvocableHandlerMethod invocable) {
		this(id, service, bean, method, invocable, Overrides.NONE);
	}

	/**
	 * @param overrides what this handler sets differently from the properties
	 * @throws IllegalStateException if the method's parameters fit neither mode
	 */
	public StreamHandlerEndpoint(String id, String service, Object bean, Method method, InvocableHandlerMethod invocable,
			Overrides overrides) {
		this.id = id;
		this.service = service;
		this.bean = bean;
		this.method = method;
		this.invocable = invocable;
		this.overrides = (overrides != null) ? overrides : Overrides.NONE;
		this.mode = modeOf(method);
	}

	static Mode modeOf(Method method) {
		Class<?>[] types = method.getParameterTypes();
		if (Arrays.asList(types).contains(StreamEntry.class)) {
			return Mode.ENTRY;
		}
		if (Arrays.asList(types).contains(StreamState.class)) {
			throw new IllegalStateException("@StreamHandler method " + describe(method) + " takes a StreamState but no "
					+ "StreamEntry: the state belongs to entry-level handlers, which take a StreamEntry");
		}
		if (Arrays.asList(types).contains(LeasedStream.class)) {
			return Mode.STREAM;
		}
		throw new IllegalStateException("@StreamHandler method " + describe(method) + " must take a LeasedStream "
				+ "(stream-level: it processes the whole stream) or a StreamEntry (entry-level: it is called per entry)");
	}

	static String describe(Method method) {
		return ClassUtils.getShortName(method.getDeclaringClass()) + "." + method.getName() + "()";
	}

	public String getId() {
		return this.id;
	}

	public String getService() {
		return this.service;
	}

	public Object getBean() {
		return this.bean;
	}

	public Method getMethod() {
		return this.method;
	}

	public Mode getMode() {
		return this.mode;
	}

	/**
	 * What this handler sets differently from the properties ({@code @StreamHandler} attributes).
	 */
	public Overrides getOverrides() {
		return this.overrides;
	}

	/**
	 * Whether the registry starts this endpoint's container when it starts (true unless set otherwise); when
	 * false, it starts only through {@link StreamHandlerEndpointRegistry#start(String)}.
	 */
	public boolean isAutoStartup() {
		return this.autoStartup;
	}

	public void setAutoStartup(boolean autoStartup) {
		this.autoStartup = autoStartup;
	}

	InvocableHandlerMethod getInvocable() {
		return this.invocable;
	}

	/**
	 * The method as {@code Class.method()}, for messages.
	 */
	public String describe() {
		return describe(this.method);
	}

	/**
	 * Settings of one handler that replace the properties' defaults; null for "as the properties say".
	 *
	 * @param maxAttempts replaces {@code stream-lease.handler.max-attempts}
	 * @param initialBackoff replaces {@code stream-lease.handler.initial-backoff}
	 * @param maxBackoff replaces {@code stream-lease.handler.max-backoff}
	 * @param maxConcurrentStreams caps how many streams of the service this consumer holds at once (below
	 * {@code stream-lease.max-concurrent-streams})
	 */
	public record Overrides(Integer maxAttempts, Duration initialBackoff, Duration maxBackoff,
			Integer maxConcurrentStreams) {

		/** Nothing overridden. */
		public static final Overrides NONE = new Overrides(null, null, null, null);

		/** Whether the error policy differs from the default one. */
		public boolean overridesErrorPolicy() {
			return this.maxAttempts != null || this.initialBackoff != null || this.maxBackoff != null;
		}

	}

	@Override
	public String toString() {
		return "StreamHandlerEndpoint[" + this.id + ", service " + this.service + ", " + this.mode + "]";
	}

}
