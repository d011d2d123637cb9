package org.ecommercepipeline.nifi.login;

import org.apache.nifi.authentication.LoginIdentityProviderConfigurationContext;

import java.util.HashMap;
import java.util.Map;

/**
 * Configuration Context backed by a map, standing in for the context NiFi builds from login-identity-providers.xml
 */
class MapConfigurationContext implements LoginIdentityProviderConfigurationContext {

    private final Map<String, String> properties = new HashMap<>();

    MapConfigurationContext with(final String propertyName, final String value) {
        properties.put(propertyName, value);
        return this;
    }

    @Override
    public String getIdentifier() {
        return "login-identity-provider";
    }

    @Override
    public Map<String, String> getProperties() {
        return Map.copyOf(properties);
    }

    @Override
    public String getProperty(final String property) {
        return properties.get(property);
    }
}
