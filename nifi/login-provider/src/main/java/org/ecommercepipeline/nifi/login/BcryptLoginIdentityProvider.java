package org.ecommercepipeline.nifi.login;

import org.apache.nifi.authentication.AuthenticationResponse;
import org.apache.nifi.authentication.LoginCredentials;
import org.apache.nifi.authentication.LoginIdentityProvider;
import org.apache.nifi.authentication.LoginIdentityProviderConfigurationContext;
import org.apache.nifi.authentication.LoginIdentityProviderInitializationContext;
import org.apache.nifi.authentication.exception.InvalidLoginCredentialsException;
import org.apache.nifi.authentication.exception.ProviderCreationException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;

/**
 * Single-user Login Identity Provider that checks passwords against a bcrypt hash read from
 * {@code login-identity-providers.xml}.
 * <p>
 * Unlike NiFi's Single User provider, it never generates or rewrites credentials: the deployment supplies
 * the username and a precomputed bcrypt hash (for example from environment variables), so the clear-text
 * password never reaches the NiFi configuration files.
 */
public class BcryptLoginIdentityProvider implements LoginIdentityProvider {

    public static final String USERNAME_PROPERTY = "Username";

    public static final String PASSWORD_HASH_PROPERTY = "Password Hash";

    public static final String AUTHENTICATION_EXPIRATION_PROPERTY = "Authentication Expiration";

    static final String DEFAULT_AUTHENTICATION_EXPIRATION = "12 hours";

    /** Same message for unknown usernames and wrong passwords, so that valid usernames cannot be probed */
    private static final String INVALID_CREDENTIALS_MESSAGE = "Username or password not valid";

    private byte[] configuredUsername;

    private BcryptPasswordVerifier passwordVerifier;

    private long expirationMillis;

    @Override
    public void initialize(final LoginIdentityProviderInitializationContext initializationContext) {
        // Nothing to initialize: all settings come from onConfigured
    }

    /**
     * Read and validate the configured username, password hash and expiration
     *
     * @param configurationContext Configuration Context containing properties
     * @throws ProviderCreationException Thrown when a required property is missing or not valid
     */
    @Override
    public void onConfigured(final LoginIdentityProviderConfigurationContext configurationContext) throws ProviderCreationException {
        final String username = getRequiredProperty(configurationContext, USERNAME_PROPERTY);
        final String passwordHash = getRequiredProperty(configurationContext, PASSWORD_HASH_PROPERTY);
        if (!BcryptPasswordVerifier.isBcryptHash(passwordHash)) {
            throw new ProviderCreationException("Property [%s] must be a bcrypt hash starting with $2a$, $2b$ or $2y$".formatted(PASSWORD_HASH_PROPERTY));
        }

        configuredUsername = username.getBytes(StandardCharsets.UTF_8);
        passwordVerifier = new BcryptPasswordVerifier(passwordHash);
        expirationMillis = getExpiration(configurationContext).toMillis();
    }

    /**
     * Authenticate credentials, always running the bcrypt verification so that response times do not reveal
     * whether the username exists
     *
     * @param credentials Login Credentials
     * @return Authentication Response with the username as identity
     * @throws InvalidLoginCredentialsException Thrown when the username or password is not valid
     */
    @Override
    public AuthenticationResponse authenticate(final LoginCredentials credentials) throws InvalidLoginCredentialsException {
        if (passwordVerifier == null) {
            throw new IllegalStateException("Provider not configured");
        }

        final String username = credentials.getUsername();
        final String password = credentials.getPassword();
        if (isBlank(username) || isBlank(password)) {
            throw new InvalidLoginCredentialsException(INVALID_CREDENTIALS_MESSAGE);
        }

        final boolean passwordVerified = passwordVerifier.isVerified(password);
        final boolean usernameVerified = MessageDigest.isEqual(configuredUsername, username.getBytes(StandardCharsets.UTF_8));
        if (passwordVerified && usernameVerified) {
            return new AuthenticationResponse(username, username, expirationMillis, getClass().getSimpleName());
        }
        throw new InvalidLoginCredentialsException(INVALID_CREDENTIALS_MESSAGE);
    }

    @Override
    public void preDestruction() {
        // No resources to release
    }

    private static Duration getExpiration(final LoginIdentityProviderConfigurationContext configurationContext) {
        final String configured = configurationContext.getProperty(AUTHENTICATION_EXPIRATION_PROPERTY);
        final String expiration = isBlank(configured) ? DEFAULT_AUTHENTICATION_EXPIRATION : configured;
        try {
            return TimePeriodParser.parse(expiration);
        } catch (final IllegalArgumentException e) {
            throw new ProviderCreationException("Property [%s] not valid: %s".formatted(AUTHENTICATION_EXPIRATION_PROPERTY, e.getMessage()), e);
        }
    }

    private static String getRequiredProperty(final LoginIdentityProviderConfigurationContext configurationContext, final String propertyName) {
        final String value = configurationContext.getProperty(propertyName);
        if (isBlank(value)) {
            throw new ProviderCreationException("Property [%s] is required".formatted(propertyName));
        }
        return value.trim();
    }

    private static boolean isBlank(final String value) {
        return value == null || value.isBlank();
    }
}
