"""The page ``paxchain explore`` serves: one self-contained HTML file, nothing from the network.

It reads the explorer server's JSON (``paxchain.checker.explore_server``) and keeps the path in
the URL's fragment (``#/0/3/1``: an initial state's index, then a successor index per step), so
Back, a reload and a shared link all reopen the same state. It shows the state's variables (the
ones the last step changed highlighted), the properties it breaks and the goals it reaches, the
enabled steps with the change each makes (red where the step breaks a property, or leads to a
state breaking one this state does not), the path so far (each entry goes back there), "Jump to a violation" and one
"Save as trace" link per outcome the path may claim. When a page has shown a state, its body
carries ``data-path`` (the path shown), which the browser test waits for. Hashes of 64 hex
digits (the chain's) show as their first 8, as in every drawing and the trace viewer, the whole
value on hover.
"""

from __future__ import annotations

import html

from paxchain.checker.render_graph import PAGE_STYLE

__all__ = ["page_html"]

_STYLE = PAGE_STYLE + """
td:first-child{white-space:nowrap}button{margin-right:.6em}#message{margin:.5em 0}#error{color:#c00}
.bad-step a{color:#c00}.bookmark{margin-right:1em}"""

_SCRIPT = r"""const $=id=>document.getElementById(id);
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;',
 '"':'&quot;'})[c]);}
function short(s){return String(s).replace(/\b([0-9a-f]{8})[0-9a-f]{56}\b/g,'$1');}
function val(s){const t=short(s);return t===String(s)?esc(s):'<span title="'+esc(s)+'">'+esc(t)+
 '</span>';}
function current(){const h=location.hash.replace(/^#\/?/,'');
 const p=h.split('/').filter(x=>x!=='');return p.length?p:['0'];}
function link(p){return '#/'+p.join('/');}
async function get(url){const r=await fetch(url);const d=await r.json();
 if(!r.ok)throw new Error(d.error||r.statusText);return d;}
let MODEL=null;
async function show(){
 const p=current();let s;
 if(MODEL===null)MODEL=await get('/api/model');
 try{s=await get('/api/state?path='+p.join('/'));}
 catch(e){$('error').textContent=e.message;document.body.dataset.path='';return;}
 $('error').textContent='';
 const changed=new Set(s.changed);
 $('state').innerHTML='<h2>State at depth '+s.depth+'</h2><table>'+s.vars.map(v=>
  '<tr class="'+(changed.has(v[0])?'changed':'')+'"><td>'+esc(v[0])+'</td><td>'+val(v[1])+
  '</td></tr>').join('')+'</table>'+
  (s.fails.length?'<p class="bad" id="fails">breaks: '+esc(s.fails.join(', '))+'</p>':'')+
  (s.breaks.length?'<p class="bad">the last step breaks: '+esc(s.breaks.join(', '))+'</p>':'')+
  (s.reaches.length?'<p class="good">goal reached: '+esc(s.reaches.join(', '))+'</p>':'');
 $('next').innerHTML='<h2>Enabled steps ('+s.steps.length+')</h2>'+
  (s.steps.length?'':'<p>none: no step is enabled here (a deadlock, or the end of the run)</p>')+
  '<ol>'+s.steps.map((e,k)=>{const bad=e.breaks.concat(e.fails.filter(n=>!s.fails.includes(n)));
   return '<li class="'+(bad.length?'bad-step':'')+'"><a class="step" data-k="'+k+'" href="'+
   link(p.concat([k]))+'">'+esc(short(e.label))+'</a>'+(bad.length?' <span class="bad">breaks '+
   esc(bad.join(', '))+'</span>':'')+'<br><small>'+esc(e.changes.length?short(e.changes.join('; ')):
   'no change: the step leads back to this state')+
   '</small></li>';}).join('')+'</ol>';
 $('path').innerHTML='Path: <a href="'+link(p.slice(0,1))+'">initial state '+esc(p[0])+'</a>'+
  s.trail.map((t,n)=>' &rarr; <a href="'+link(p.slice(0,n+2))+'">'+esc(short(t))+'</a>').join('');
 $('back').disabled=p.length<2;
 $('bookmark').innerHTML=s.claims.length?s.claims.map(c=>'<a class="bookmark" download '+
  'href="/api/trace?path='+p.join('/')+'&property='+encodeURIComponent(c.property)+'">'+
  'Save as trace: '+esc(c.outcome)+' of '+esc(c.property)+'</a>').join(''):
  '<small>Save as trace: this state breaks no property and reaches no goal, and a trace file '+
  'must show one (replay checks it)</small>';
 $('initial').innerHTML=MODEL.initial>1?'Initial states: '+[...Array(MODEL.initial).keys()]
  .map(i=>'<a href="#/'+i+'">'+i+'</a>').join(' '):'';
 document.body.dataset.path=p.join('/');}
$('back').onclick=()=>{const p=current();if(p.length>1)location.hash=link(p.slice(0,-1));};
$('jump').onclick=async()=>{$('message').textContent='searching breadth-first...';
 try{const v=await get('/api/violation');
  if(v.found){$('message').textContent=v.property+' ('+v.kind+') violated in '+v.steps+
   ' steps (the shortest): '+v.explanation;location.hash=link(v.path);}
  else $('message').textContent=v.message;}
 catch(e){$('message').textContent='';$('error').textContent=e.message;}};
window.addEventListener('hashchange',show);
show();"""


def page_html(title: str) -> str:
    """The explorer page for the instance ``title`` (module docstring)."""
    t = html.escape(title)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>explore {t}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{t}</h1>"
            "<p><button id=\"back\">Back</button><button id=\"jump\">Jump to a violation"
            "</button><span id=\"bookmark\"></span></p><p id=\"message\"></p>"
            "<p id=\"error\"></p><p id=\"initial\"></p><p id=\"path\"></p>"
            "<div class=\"cols\"><div id=\"state\"></div><div id=\"next\"></div></div>"
            f"<script>{_SCRIPT}</script></body></html>\n")
