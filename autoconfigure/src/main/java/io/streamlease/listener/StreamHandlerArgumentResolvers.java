package io.streamlease.listener;

import java.util.List;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamState;
import org.springframework.core.MethodParameter;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;

/**
 * Resolves the Stream Lease parameters of handler methods from the headers of the invocation message.
 */
public final class StreamHandlerArgumentResolvers {

	static final String LEASED_STREAM = "stream-lease.leased-stream";

	static final String STATE = "stream-lease.state";

	static final String ENTRY = "stream-lease.entry";

	private StreamHandlerArgumentResolvers() {
	}

	/**
	 * The resolvers for {@link LeasedStream}, {@link StreamEntry} and {@link StreamState} parameters.
	 */
	public static List<HandlerMethodArgumentResolver> all() {
		return List.of(new HeaderResolver(LeasedStream.class, LEASED_STREAM), new HeaderResolver(StreamEntry.class, ENTRY),
				new HeaderResolver(StreamState.class, STATE));
	}

	private record HeaderResolver(Class<?> type, String header) implements HandlerMethodArgumentResolver {

		@Override
		public boolean supportsParameter(MethodParameter parameter) {
			return parameter.getParameterType() == this.type;
		}

		@Override
		public Object resolveArgument(MethodParameter parameter, Message<?> message) {
			return message.getHeaders().get(this.header);
		}

	}

}
