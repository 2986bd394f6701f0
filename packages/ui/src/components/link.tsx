// An in-page link: a real href (opens in a new tab too), navigated without a reload on a plain click.
import type { ComponentChildren } from 'preact';
import { hrefOf, navigate, type Route } from '../route';

export function Link({ to, children, class: cls }: { to: Route; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={hrefOf(to)}
      class={cls}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
