package io.streamlease.listener;

import java.util.Map;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessagingException;
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
		catch (MessagingException ex) {
			if (ex.getFailedMessage() == message) {
				// raised while resolving or converting the arguments of this very invocation, not by the method
				throw new ArgumentsFailedException("@StreamHandler method " + this.endpoint.describe()
						+ " could not be called for stream '" + stream + "'" + where + ": " + ex.getMessage(), stream, ex);
			}
			throw wrap(ex, stream, where);
		}
		catch (Exception ex) {
			throw wrap(ex, stream, where);
		}
	}

	private HandlerFailedException wrap(Exception ex, String stream, String where) {
		return new HandlerFailedException("@StreamHandler method " + this.endpoint.describe() + " failed on stream '"
				+ stream + "'" + where + ": " + ex, stream, ex);
	}

	/**
	 * The arguments of the method could not be resolved or converted: retrying cannot help.
	 */
	static final class ArgumentsFailedException extends HandlerFailedException {

		ArgumentsFailedException(String message, String stream, Throwable cause) {
			super(message, stream, cause);
		}

	}

}
