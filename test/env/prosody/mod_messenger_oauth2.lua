-- mod_messenger_oauth2: the X-MESSENGER-OAUTH2 SASL mechanism for Prosody 0.12 (test environment).
--
-- The client sends <auth mechanism="X-MESSENGER-OAUTH2">ACCESS_TOKEN</auth> where the text is the
-- RAW access token (not base64). The token is checked against an RFC 7662 introspection endpoint;
-- on success the session is authenticated as the token's user (introspection `username` or `sub`).
-- SCRAM/PLAIN keep working through the host's normal auth provider (mod_saslauth).
-- A timer closes the session with not-authorized ("access token expired") when the token's `exp`
-- passes; on XEP-0198 resumption the new token's expiry moves onto the resumed session.
-- The token is never logged.
--
-- Options:
--   messenger_oauth2_introspection_url   (required) e.g. "http://127.0.0.1:PORT/token/introspection"
--   messenger_oauth2_client_id / messenger_oauth2_client_secret  (HTTP Basic on the introspection call)
--   messenger_oauth2_timeout             seconds, default 5
--   messenger_oauth2_require_account     default true: the user must be registered on this host
--   messenger_oauth2_require_encryption  default = c2s_require_encryption (default true)

local st = require "util.stanza";
local async = require "util.async";
local http = require "net.http";
local json = require "util.json";
local base64 = require "util.encodings".base64;
local usermanager = require "core.usermanager";
local sm_make_authenticated = require "core.sessionmanager".make_authenticated;
local http_util = require "util.http";

local xmlns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
local MECHANISM = "X-MESSENGER-OAUTH2";

local introspection_url = module:get_option_string("messenger_oauth2_introspection_url");
local client_id = module:get_option_string("messenger_oauth2_client_id", "");
local client_secret = module:get_option_string("messenger_oauth2_client_secret", "");
local timeout = module:get_option_number("messenger_oauth2_timeout", 5);
local require_account = module:get_option_boolean("messenger_oauth2_require_account", true);
local require_encryption = module:get_option_boolean("messenger_oauth2_require_encryption",
	module:get_option_boolean("c2s_require_encryption", module:get_option_boolean("require_encryption", true)));

if not introspection_url then
	module:log("error", "messenger_oauth2_introspection_url is not set; %s disabled", MECHANISM);
	return;
end

local http_client = http.new({ suppress_errors = true });

-- POSTs the token to the introspection endpoint; returns the decoded JSON object or nil, reason.
local function introspect(token)
	local wait, done = async.waiter();
	local finished, result, reason = false, nil, nil;
	local timer = module:add_timer(timeout, function ()
		if finished then return; end
		finished, reason = true, "introspection timed out";
		done();
	end);
	http_client:request(introspection_url, {
		method = "POST";
		body = http_util.formencode({ token = token, token_type_hint = "access_token" });
		headers = {
			["Authorization"] = "Basic " .. base64.encode(client_id .. ":" .. client_secret);
			["Accept"] = "application/json";
		};
		suppress_url = true;
	}, function (body, code)
		if finished then return; end
		finished = true;
		timer:stop();
		if code == 200 then
			result = json.decode(body);
			if type(result) ~= "table" then reason = "introspection returned invalid JSON"; result = nil; end
		else
			reason = "introspection HTTP status " .. tostring(code);
		end
		done();
	end);
	wait();
	return result, reason;
end

local function cancel_expiry(session)
	session.messenger_oauth2_gen = (session.messenger_oauth2_gen or 0) + 1;
end

-- Arms (or re-arms) the expiry timer for session.messenger_oauth2_exp.
local function schedule_expiry(session)
	cancel_expiry(session);
	local exp = session.messenger_oauth2_exp;
	if not exp then return; end
	local gen = session.messenger_oauth2_gen;
	local delay = math.max(0, exp - os.time());
	module:add_timer(delay, function ()
		if session.messenger_oauth2_gen ~= gen then return; end -- superseded or cancelled
		if session.destroyed or session.type == "c2s_destroyed" then return; end
		if session.hibernating then return; end -- a resumption must bring a fresh token
		if os.time() < exp then schedule_expiry(session); return; end
		(session.log or module._log)("info", "Access token expired, closing session");
		session:close({ condition = "not-authorized", text = "access token expired" });
	end);
end

local function failure(session, condition, text)
	local reply = st.stanza("failure", { xmlns = xmlns_sasl }):tag(condition):up();
	if text then reply:tag("text"):text(text):up(); end
	session.send(reply);
	module:fire_event("authentication-failure", { session = session, condition = condition, text = text });
	return true;
end

-- Advertise the mechanism after mod_saslauth has built <mechanisms/>.
module:hook("stream-features", function (event)
	local origin, features = event.origin, event.features;
	if origin.username or origin.type ~= "c2s_unauthed" then return; end
	if require_encryption and not origin.secure then return; end
	local mechanisms = features:get_child("mechanisms", xmlns_sasl);
	if not mechanisms then
		features:tag("mechanisms", { xmlns = xmlns_sasl }):tag("mechanism"):text(MECHANISM):up():up();
	else
		mechanisms:tag("mechanism"):text(MECHANISM):up();
	end
end, -10);

-- Handle <auth mechanism="X-MESSENGER-OAUTH2"> before mod_saslauth (priority 0) sees it.
module:hook("stanza/urn:ietf:params:xml:ns:xmpp-sasl:auth", function (event)
	local session, stanza = event.origin, event.stanza;
	if stanza.attr.mechanism ~= MECHANISM then return; end
	if session.type ~= "c2s_unauthed" then return; end
	if require_encryption and not session.secure then
		return failure(session, "encryption-required");
	end
	local token = stanza:get_text();
	if not token or token == "" then
		return failure(session, "not-authorized", "empty access token");
	end
	local info, reason = introspect(token);
	token = nil; -- luacheck: ignore 311
	if session.type ~= "c2s_unauthed" or session.destroyed then return true; end
	if not info then
		session.log("warn", "Token validation failed: %s", reason);
		return failure(session, "temporary-auth-failure");
	end
	if info.active ~= true then
		session.log("info", "Rejected inactive access token");
		return failure(session, "not-authorized");
	end
	local username = info.username or info.sub;
	if type(username) ~= "string" or username == "" then
		return failure(session, "not-authorized", "token has no user");
	end
	if require_account and not usermanager.user_exists(username, module.host) then
		session.log("info", "Token user %s has no account on %s", username, module.host);
		return failure(session, "not-authorized", "no such account");
	end
	local ok, err = sm_make_authenticated(session, username);
	if not ok then
		return failure(session, "not-authorized", err);
	end
	session.messenger_oauth2_exp = tonumber(info.exp);
	schedule_expiry(session);
	module:fire_event("authentication-success", { session = session });
	session.sasl_handler = nil;
	session:reset_stream();
	session.send(st.stanza("success", { xmlns = xmlns_sasl }));
	return true;
end, 10);

-- XEP-0198: the new connection (event.origin) authenticated with a fresh token and took over the
-- hibernated session (event.resumed); move the expiry onto the resumed session.
module:hook("smacks-hibernation-end", function (event)
	local new_session, resumed = event.origin, event.resumed;
	if not resumed then return; end
	cancel_expiry(new_session);
	resumed.messenger_oauth2_exp = new_session.messenger_oauth2_exp;
	if resumed.messenger_oauth2_exp then
		schedule_expiry(resumed);
	else
		cancel_expiry(resumed); -- resumed by a password login: no token expiry any more
	end
end);

module:hook("pre-session-close", function (event)
	cancel_expiry(event.session);
end);
