/*
 * stripekit's stand-in for Stripe.js (https://js.stripe.com/v3/), served by the emulator
 * at /v3/. It implements the part of Stripe.js that embedded Checkout and the Payment
 * Element pages use, against the emulator's API, with the publishable key and the
 * client secret only (never a secret key):
 *
 *   const stripe = Stripe("pk_test_...");   // Connect: Stripe("pk_test_...", {stripeAccount})
 *   const checkout = await stripe.initEmbeddedCheckout({fetchClientSecret});
 *   checkout.mount("#checkout");
 *
 *   const elements = stripe.elements({clientSecret});
 *   elements.create("payment").mount("#payment-element");
 *   const {error} = await stripe.confirmPayment({elements, confirmParams: {return_url}});
 *
 * Differences from Stripe.js: the Payment Element's fields are plain inputs in the
 * page (Stripe's live in an iframe of Stripe's origin), it takes cards only, and a
 * card that asks for 3-D Secure sends the browser to the emulator's challenge page,
 * which then returns to return_url, as a redirect-based authentication does.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var ORIGIN = new URL(script ? script.src : "/", window.location.href).origin;

  function form(params, prefix, parts) {
    parts = parts || [];
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      var key = prefix ? prefix + "[" + name + "]" : name;
      if (value === undefined || value === null) return;
      if (typeof value === "object") form(value, key, parts);
      else parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(value)));
    });
    return parts.join("&");
  }

  // A simple CORS request (a form body, no custom header): the key travels as `key`,
  // and a connected account (Connect) as `_stripe_account`, as Stripe.js sends them.
  function api(stripe, method, path, params) {
    var sent = {key: stripe._key};
    if (stripe._account) sent._stripe_account = stripe._account;
    var body = form(Object.assign(sent, params || {}));
    var url = ORIGIN + path + (method === "GET" ? "?" + body : "");
    var init = {method: method};
    if (method !== "GET") {
      init.body = body;
      init.headers = {"Content-Type": "application/x-www-form-urlencoded"};
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) return {error: json.error || {message: "HTTP " + response.status}};
        return {object: json};
      });
    });
  }

  function idOf(clientSecret) {
    var at = String(clientSecret || "").indexOf("_secret_");
    if (at < 1) throw new Error("Stripe (stripekit stand-in): not a client secret: " + clientSecret);
    return clientSecret.slice(0, at);
  }

  function element(target) {
    var found = typeof target === "string" ? document.querySelector(target) : target;
    if (!found) throw new Error("Stripe (stripekit stand-in): no element matches " + target);
    return found;
  }

  function withQuery(url, params) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + form(params);
  }

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey, options);
    if (!/^pk_(test|live)_/.test(String(publishableKey))) {
      throw new Error("Stripe(): give your publishable key (pk_test_...); a secret key never goes to a browser");
    }
    this._key = publishableKey;
    // Connect: the connected account whose objects this page pays (its client secrets).
    this._account = (options && options.stripeAccount) || null;
  }

  // -- embedded Checkout -------------------------------------------------------------------

  function EmbeddedCheckout(stripe, clientSecret, onComplete) {
    this._stripe = stripe;
    this._secret = clientSecret;
    this._id = idOf(clientSecret);
    this._onComplete = onComplete;
    this._frame = null;
    this._listener = null;
  }

  EmbeddedCheckout.prototype.mount = function (target) {
    var self = this;
    var frame = document.createElement("iframe");
    frame.name = "stripekit-embedded-checkout";
    frame.title = "Secure payment";
    frame.style.cssText = "width:100%;min-height:560px;border:0;display:block";
    frame.src = withQuery(ORIGIN + "/c/embed/" + encodeURIComponent(this._id), {client_secret: this._secret});
    this._listener = function (event) {
      if (event.origin !== ORIGIN || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (data.type === "stripekit:resize" && data.height) {
        frame.style.height = data.height + "px";
      } else if (data.type === "stripekit:checkout-complete") {
        if (self._onComplete) self._onComplete();
        else window.location.assign(data.returnUrl);
      }
    };
    window.addEventListener("message", this._listener);
    element(target).appendChild(frame);
    this._frame = frame;
  };

  EmbeddedCheckout.prototype.unmount = function () {
    if (this._frame) this._frame.remove();
    if (this._listener) window.removeEventListener("message", this._listener);
    this._frame = null;
  };

  EmbeddedCheckout.prototype.destroy = EmbeddedCheckout.prototype.unmount;

  Stripe.prototype.initEmbeddedCheckout = function (options) {
    var self = this;
    options = options || {};
    var secret = options.fetchClientSecret ? options.fetchClientSecret() : options.clientSecret;
    return Promise.resolve(secret).then(function (clientSecret) {
      return new EmbeddedCheckout(self, clientSecret, options.onComplete);
    });
  };

  // -- Elements and the Payment Element ------------------------------------------------------

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._secret = options.clientSecret;
    this._payment = null;
  }

  Elements.prototype.create = function (type) {
    if (type !== "payment") {
      throw new Error('Stripe (stripekit stand-in): only elements.create("payment") is emulated');
    }
    this._payment = new PaymentElement();
    return this._payment;
  };

  Elements.prototype.getElement = function (type) {
    return type === "payment" ? this._payment : null;
  };

  Elements.prototype.submit = function () {
    var card = this._payment ? this._payment.card() : null;
    if (!card || !card.number) {
      return Promise.resolve({error: {type: "validation_error", code: "incomplete_number",
                                      message: "Your card number is incomplete."}});
    }
    return Promise.resolve({});
  };

  function PaymentElement() {
    this._root = null;
  }

  PaymentElement.prototype.mount = function (target) {
    var root = element(target);
    root.innerHTML =
      '<div class="stripekit-payment-element" style="display:grid;gap:8px">' +
      '<label>Card number<input id="stripekit-card-number" name="stripekit-card-number" ' +
      'inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" style="width:100%"></label>' +
      '<div style="display:grid;grid-template-columns:1fr 1fr;gap:8px">' +
      '<label>Expiry<input id="stripekit-card-expiry" value="12 / 34" style="width:100%"></label>' +
      '<label>CVC<input id="stripekit-card-cvc" value="123" style="width:100%"></label></div>' +
      '<small>Test mode (stripekit emulator): 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is ' +
      'declined, 4000 0025 0000 3155 asks for 3-D Secure.</small></div>';
    this._root = root;
  };

  PaymentElement.prototype.card = function () {
    if (!this._root) return null;
    var number = this._root.querySelector("#stripekit-card-number").value.replace(/[\s-]/g, "");
    var expiry = this._root.querySelector("#stripekit-card-expiry").value.split("/");
    return {
      number: number,
      exp_month: (expiry[0] || "12").trim(),
      exp_year: "20" + (expiry[1] || "34").trim().slice(-2),
      cvc: this._root.querySelector("#stripekit-card-cvc").value
    };
  };

  PaymentElement.prototype.unmount = function () {
    if (this._root) this._root.innerHTML = "";
    this._root = null;
  };

  PaymentElement.prototype.on = function () { return this; };

  Stripe.prototype.elements = function (options) {
    if (!options || !options.clientSecret) {
      throw new Error("Stripe (stripekit stand-in): stripe.elements() needs {clientSecret}");
    }
    return new Elements(this, options);
  };

  // -- confirming a payment ------------------------------------------------------------------

  Stripe.prototype.confirmPayment = function (options) {
    var stripe = this;
    options = options || {};
    var elements = options.elements;
    var params = options.confirmParams || {};
    var redirect = options.redirect || "always";
    if (!elements) return Promise.reject(new Error("confirmPayment needs {elements}"));
    var secret = options.clientSecret || elements._secret;
    if (redirect === "always" && !params.return_url) {
      return Promise.reject(new Error("confirmPayment needs confirmParams.return_url"));
    }
    var card = elements._payment ? elements._payment.card() : null;
    if (!card || !card.number) {
      return Promise.resolve({error: {type: "validation_error", code: "incomplete_number",
                                      message: "Your card number is incomplete."}});
    }
    var intentId = idOf(secret);
    return api(stripe, "POST", "/v1/payment_methods", {type: "card", card: card})
      .then(function (made) {
        if (made.error) return made;
        return api(stripe, "POST", "/v1/payment_intents/" + intentId + "/confirm", {
          client_secret: secret,
          payment_method: made.object.id,
          return_url: params.return_url
        });
      })
      .then(function (answer) {
        if (answer.error) return {error: answer.error};
        var intent = answer.object;
        var action = intent.next_action;
        if (intent.status === "requires_action" && action && action.redirect_to_url) {
          // 3-D Secure: the emulator's challenge page, which returns to return_url.
          window.location.assign(action.redirect_to_url.url);
          return new Promise(function () {});
        }
        if (redirect === "always") {
          window.location.assign(withQuery(params.return_url, {
            payment_intent: intent.id,
            payment_intent_client_secret: secret,
            redirect_status: intent.status === "succeeded" ? "succeeded" : intent.status
          }));
          return new Promise(function () {});
        }
        return {paymentIntent: intent};
      });
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    return api(this, "GET", "/v1/payment_intents/" + idOf(clientSecret), {client_secret: clientSecret})
      .then(function (answer) {
        return answer.error ? {error: answer.error} : {paymentIntent: answer.object};
      });
  };

  window.Stripe = Stripe;
})();
