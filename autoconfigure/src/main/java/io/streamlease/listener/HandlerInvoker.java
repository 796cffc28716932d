package io.streamlease.listener;

import java.util.Map;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import org.springframework.messaging.Message;
import org.springframework.messaging.converter.MessageConversionException;
import org.springframework.messaging.handler.invocation.MethodArgumentResolutionException;
import org.springframework.messaging.support.MessageBuilder;

/**
 * Calls a handler method through spring-messaging, and wraps what it throws in a {@link HandlerFailedException}
 * that names the method and the stream.
 */
final class HandlerInvoker {

	private final StreamHandlerEndpoint endpoint;

	HandlerInvoker(StreamHandlerEndpoint endpoint) {
		this.endpoint = endpoint;
	}

	Object invokeStream(LeasedStream lease) {
		return invoke(MessageBuilder.withPayload(lease).setHeader(StreamHandlerArgumentResolvers.LEASED_STREAM, lease).build(),
				lease.name(), "");
	}

	Object invokeEntry(LeasedStream lease, StreamEntry entry, MapStreamState state) {
		Message<StreamEntry> message = MessageBuilder.withPayload(entry)
			.copyHeaders(Map.of(StreamHandlerArgumentResolvers.LEASED_STREAM, lease, StreamHandlerArgumentResolvers.ENTRY,
					entry, StreamHandlerArgumentResolvers.STATE, state))
			.build();
		return invoke(message, lease.name(), " at entry " + entry.id());
	}

	private Object invoke(Message<?> message, String stream, String where) {
		try {
			return this.endpoint.getInvocable().invoke(message);
		}
		catch (Exception ex) {
			throw new HandlerFailedException("@StreamHandler method " + this.endpoint.describe() + " failed on stream '"
					+ stream + "'" + where + ": " + ex, stream, ex);
		}
	}

	/**
	 * Whether a failure can never succeed on retry: the arguments could not be resolved or converted.
	 */
	static boolean isPermanent(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof MethodArgumentResolutionException || cause instanceof MessageConversionException) {
				return true;
			}
		}
		return false;
	}

}
