// workbench: the "anywidget" module for @jupyter-widgets/html-manager in a static report.
// An anywidget keeps its front-end as an ES module in its own state (_esm); in a report there is
// no kernel, so this view imports that module from a Blob URL and calls its render({model, el})
// with a model facade whose writes stay in the page. Identical modules are stored once in the
// page (script#wb-esm, keyed by sha256) and referenced as "wb-esm:<sha>" in the widget state.
define("anywidget", ["@jupyter-widgets/base"], function (base) {
  "use strict";
  var shared = null;
  var loaded = {};
  var styled = {};

  function source(esm) {
    if (typeof esm === "string" && esm.indexOf("wb-esm:") === 0) {
      if (shared === null) {
        var tag = document.getElementById("wb-esm");
        shared = tag ? JSON.parse(tag.textContent) : {};
      }
      return shared[esm.slice(7)] || "";
    }
    return esm || "";
  }

  function load(esm) {
    var src = source(esm);
    if (!(src in loaded)) {
      var url = /^(https?:|blob:|data:)/.test(src) ? src
        : URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      loaded[src] = import(url);
    }
    return loaded[src];
  }

  function facade(model) {
    return {
      get: function (name) { return model.get(name); },
      set: function (name, value) { model.set(name, value); },
      // no kernel in a static page: changes stay in the browser
      save_changes: function () { try { model.save_changes(); } catch (e) { /* no comm */ } },
      on: function (name, cb) { model.on(name, cb); },
      off: function (name, cb) { model.off(name, cb); },
      send: function () {},
      widget_manager: model.widget_manager
    };
  }

  class AnyModel extends base.DOMWidgetModel {}

  class AnyView extends base.DOMWidgetView {
    render() {
      var view = this;
      var css = source(this.model.get("_css"));
      if (css && !styled[css]) {
        var style = document.createElement("style");
        style.textContent = css;
        document.head.appendChild(style);
        styled[css] = true;
      }
      this.el.classList.add("wb-anywidget");
      return load(this.model.get("_esm")).then(function (mod) {
        var widget = mod.default !== undefined ? mod.default : mod;
        if (typeof widget === "function") widget = widget();
        var model = facade(view.model);
        return Promise.resolve(widget.initialize ? widget.initialize({ model: model }) : null)
          .then(function () {
            var render = widget.render || mod.render;
            return render ? render({ model: model, el: view.el }) : null;
          });
      }).catch(function (err) {
        view.el.textContent = "this widget could not render: " + err;
        view.el.setAttribute("data-wb-error", String(err));
      });
    }
  }

  return { AnyModel: AnyModel, AnyView: AnyView };
});
