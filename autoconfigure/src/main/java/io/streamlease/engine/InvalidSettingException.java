package io.streamlease.engine;

import io.streamlease.StreamLeaseException;

/**
 * A setting of the engine has a value that breaks its rule. The message names the setting (with the same name
 * as the Spring Boot property, without its prefix), the value and the rule.
 */
public class InvalidSettingException extends StreamLeaseException {

	private final String setting;

	private final Object value;

	InvalidSettingException(String setting, Object value, String rule) {
		super(setting + " is " + display(value) + " but " + rule);
		this.setting = setting;
		this.value = value;
	}

	private static String display(Object value) {
		return (value instanceof CharSequence) ? "'" + value + "'" : String.valueOf(value);
	}

	/**
	 * The name of the setting, as the suffix of its property name (for example {@code hb-interval}).
	 */
	public String getSetting() {
		return this.setting;
	}

	/**
	 * The rejected value.
	 */
	public Object getValue() {
		return this.value;
	}

}
