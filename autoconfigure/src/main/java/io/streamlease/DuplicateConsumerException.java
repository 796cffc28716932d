package io.streamlease;

/**
 * Thrown at start when another live instance already uses the same consumer id for the same service: two
 * instances with one id would renew and release each other's leases.
 */
public class DuplicateConsumerException extends StreamLeaseException {

	public DuplicateConsumerException(String message) {
		super(message);
	}

}
