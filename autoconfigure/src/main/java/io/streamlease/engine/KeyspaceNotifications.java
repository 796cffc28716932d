package io.streamlease.engine;

/**
 * Whether the engine uses Redis keyspace notifications as the fast path for detecting lapsed leases. The
 * periodic sweep runs in every mode, so every orphan is recovered even without notifications.
 */
public enum KeyspaceNotifications {

	/**
	 * Enable them if the server allows CONFIG SET, merging the needed flags into the existing setting; if it
	 * refuses, log one warning and rely on the sweep.
	 */
	AUTO,

	/**
	 * Require them: fail at start if they cannot be enabled.
	 */
	ON,

	/**
	 * Do not touch the server's setting and do not subscribe; the sweep alone detects lapsed leases.
	 */
	OFF

}
